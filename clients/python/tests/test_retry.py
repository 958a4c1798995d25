"""A publish whose answer was lost after the hub applied it is retried and applied once."""

import unittest

from hub_harness import Hub, Proxy, new_process_id
from progress_hub import ProgressTracker

hub = None
idempotent = False


def setUpModule():
    global hub, idempotent
    hub = Hub()
    idempotent = hub.supports_idempotency_keys()


def tearDownModule():
    hub.stop()


class RetryTest(unittest.TestCase):
    def setUp(self):
        # The hub side of Idempotency-Key (issue 21) lands separately; a hub without it applies the
        # retry a second time, which is the bug this test exists for, not a flaw of the library.
        if not idempotent:
            self.skipTest("this progress-hub does not honour Idempotency-Key yet")

    def test_lost_answer_is_retried_and_applied_once(self):
        proxy = Proxy(hub.port, plan=["drop_reply"])
        try:
            pid = new_process_id()
            tracker = ProgressTracker(pid, proxy.url)
            # The hub's first answer, replayed to the retry.
            self.assertEqual(tracker.update("analysis", 10, "once")["seq"], 1)
            tracker.close()
            self.assertEqual(proxy.connections, 2)
            self.assertEqual(hub.record(pid)["seq"], 1)
        finally:
            proxy.close()

    def test_lost_terminal_answer_is_not_process_finished(self):
        proxy = Proxy(hub.port, plan=["drop_reply"])
        try:
            pid = new_process_id()
            ProgressTracker(pid, hub.url).update("analysis", 10)
            tracker = ProgressTracker(pid, proxy.url)
            self.assertEqual(tracker.complete({"n": 1})["seq"], 2)
            self.assertEqual((hub.record(pid)["state"], hub.record(pid)["seq"]), ("completed", 2))
        finally:
            proxy.close()


if __name__ == "__main__":
    unittest.main()

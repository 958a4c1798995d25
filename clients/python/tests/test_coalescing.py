"""min_interval: fewer requests in a tight loop, every stage change and the terminal kept."""

import unittest

from hub_harness import Hub, new_process_id
from progress_hub import ProgressTracker

hub = None

# Longer than the test takes, so which updates are held does not depend on the machine's speed.
HOLD_S = 600


def setUpModule():
    global hub
    hub = Hub()


def tearDownModule():
    hub.stop()


class CoalescingTest(unittest.TestCase):
    def run_job(self, tracker):
        for n, stage in enumerate(("upload_received", "text_extraction", "analysis")):
            for i in range(100):
                tracker.update(stage, 33 * n + i * 0.33, f"{stage} {i}", {"i": i})
        tracker.complete({"ok": True})

    def test_without_interval_every_update_is_a_request(self):
        pid = new_process_id()
        before = hub.publish_requests()
        self.run_job(ProgressTracker(pid, hub.url))
        self.assertEqual(hub.publish_requests() - before, 301)
        self.assertEqual(hub.record(pid)["seq"], 301)

    def test_interval_sends_stage_changes_held_updates_and_terminal_in_order(self):
        pid = new_process_id()
        before = hub.publish_requests()
        self.run_job(ProgressTracker(pid, hub.url, min_interval=HOLD_S))
        # Per stage: its first update, then its last one (held, flushed before the next stage or
        # the terminal, carrying the newest fields); then the terminal.
        self.assertEqual(hub.publish_requests() - before, 7)
        done = hub.record(pid)
        self.assertEqual((done["state"], done["seq"], done["result"]), ("completed", 7, {"ok": True}))
        self.assertEqual([s["name"] for s in done["stages"]], ["upload_received", "text_extraction", "analysis"])
        self.assertTrue(all("ended_at" in s for s in done["stages"]))
        self.assertEqual((done["message"], done["data"]), ("analysis 99", {"i": 99}))

    def test_held_update_is_flushed_before_the_next_stage(self):
        pid = new_process_id()
        tracker = ProgressTracker(pid, hub.url, min_interval=HOLD_S)
        tracker.update("checksum", 10, "hashing")
        self.assertIsNone(tracker.update("checksum", 60))
        self.assertIsNone(tracker.update("checksum", 80, data={"bytes_done": 8}))
        self.assertEqual(hub.record(pid)["percent"], 10)
        tracker.update("analysis", 85)
        record = hub.record(pid)
        self.assertEqual((record["seq"], record["stage"], record["percent"]), (3, "analysis", 85))
        # The held update merged its two calls: the message of the first survives.
        self.assertEqual((record["message"], record["data"]), ("hashing", {"bytes_done": 8}))

    def test_flush_and_close_send_the_held_update(self):
        pid = new_process_id()
        tracker = ProgressTracker(pid, hub.url, min_interval=HOLD_S)
        tracker.update("analysis", 10)
        tracker.update("analysis", 20)
        self.assertEqual(tracker.flush(), {"process_id": pid, "seq": 2})
        tracker.update("analysis", 30)
        tracker.close()
        self.assertEqual((hub.record(pid)["seq"], hub.record(pid)["percent"]), (3, 30))


if __name__ == "__main__":
    unittest.main()

"""ProgressTracker against a real hub: what a subscriber sees through GET /api/processes/{id}."""

import time
import unittest

from hub_harness import Hub, Proxy, new_process_id
from progress_hub import ProgressHubError, ProgressStage, ProgressTracker

hub = None


def setUpModule():
    global hub
    hub = Hub()


def tearDownModule():
    hub.stop()


class TrackerTest(unittest.TestCase):
    def test_updates_then_complete_are_the_record(self):
        pid = new_process_id()
        with ProgressTracker(pid, hub.url) as tracker:
            tracker.update(ProgressStage.UPLOAD_RECEIVED, 5, "received 12 bytes", {"bytes_total": 12})
            answer = tracker.update("text_extraction", 40.5, "extracting text")
            self.assertEqual(answer, {"process_id": pid, "seq": 2})
            running = hub.record(pid)
            self.assertEqual((running["state"], running["stage"], running["percent"]),
                             ("running", "text_extraction", 40.5))
            self.assertEqual(running["message"], "extracting text")
            self.assertEqual(running["data"], {"bytes_total": 12})
            tracker.complete({"words": 3})
        done = hub.record(pid)
        self.assertEqual((done["state"], done["percent"], done["seq"]), ("completed", 100, 3))
        self.assertEqual(done["result"], {"words": 3})
        self.assertEqual([s["name"] for s in done["stages"]], ["upload_received", "text_extraction"])

    def test_complete_without_result_sends_none(self):
        pid = new_process_id()
        tracker = ProgressTracker(pid, hub.url)
        tracker.update(ProgressStage.ANALYSIS, 90)
        tracker.complete()
        tracker.close()
        done = hub.record(pid)
        self.assertEqual(done["state"], "completed")
        self.assertNotIn("result", done)

    def test_fail_carries_the_error(self):
        pid = new_process_id()
        tracker = ProgressTracker(pid, hub.url)
        tracker.update("checksum", 10)
        tracker.fail({"code": "unreadable", "message": "no readable text"})
        failed = hub.record(pid)
        self.assertEqual(failed["state"], "failed")
        self.assertEqual(failed["error"], {"code": "unreadable", "message": "no readable text"})

    def test_cancel(self):
        pid = new_process_id()
        tracker = ProgressTracker(pid, hub.url)
        tracker.update("analysis", 30)
        tracker.cancel()
        self.assertEqual(hub.record(pid)["state"], "cancelled")

    def test_block_that_raises_fails_the_job_and_the_exception_propagates(self):
        pid = new_process_id()
        with self.assertRaisesRegex(RuntimeError, "disk on fire"):
            with ProgressTracker(pid, hub.url) as tracker:
                tracker.update("text_extraction", 20)
                raise RuntimeError("disk on fire")
        failed = hub.record(pid)
        self.assertEqual((failed["state"], failed["error"]), ("failed", "disk on fire"))

    def test_block_that_raises_after_complete_keeps_completed(self):
        pid = new_process_id()
        with self.assertRaises(KeyError):
            with ProgressTracker(pid, hub.url) as tracker:
                tracker.complete({"ok": True})
                raise KeyError("late")
        self.assertEqual(hub.record(pid)["state"], "completed")

    def test_refused_update_raises_with_the_hubs_code_and_keeps_the_record(self):
        pid = new_process_id()
        tracker = ProgressTracker(pid, hub.url)
        tracker.update("analysis", 55)
        with self.assertRaises(ProgressHubError) as refused:
            tracker.update("analysis", 40)
        self.assertEqual((refused.exception.code, refused.exception.status), ("invalid_update", 400))
        self.assertIn("40", refused.exception.message)
        self.assertEqual(hub.record(pid)["percent"], 55)
        with self.assertRaises(ProgressHubError) as out_of_range:
            tracker.update("analysis", 150)
        self.assertEqual(out_of_range.exception.code, "invalid_update")

    def test_publish_after_the_end_is_process_finished(self):
        pid = new_process_id()
        tracker = ProgressTracker(pid, hub.url)
        tracker.complete()
        with self.assertRaises(ProgressHubError) as refused:
            tracker.update("analysis", 10)
        self.assertEqual((refused.exception.code, refused.exception.status), ("process_finished", 409))

    def test_invalid_id_is_refused(self):
        with self.assertRaises(ProgressHubError) as refused:
            ProgressTracker("has space", hub.url).update("analysis", 1)
        self.assertEqual((refused.exception.code, refused.exception.status), ("invalid_process_id", 400))

    def test_nan_is_refused_before_sending(self):
        tracker = ProgressTracker(new_process_id(), hub.url)
        with self.assertRaisesRegex(ValueError, "finite"):
            tracker.update("analysis", float("nan"))

    def test_lease_rides_on_updates(self):
        pid = new_process_id()
        tracker = ProgressTracker(pid, hub.url, lease_ms=1)
        tracker.update("analysis", 10)
        # Only the hub's lease can move the job to failed/stalled: nothing else publishes to it.
        for _ in range(200):
            record = hub.record(pid)
            if record["state"] != "running":
                break
            time.sleep(0.05)
        self.assertEqual(record["state"], "failed")
        self.assertEqual(record["error"]["code"], "stalled")

    def test_a_tight_loop_uses_one_connection(self):
        proxy = Proxy(hub.port)
        try:
            pid = new_process_id()
            with ProgressTracker(pid, proxy.url) as tracker:
                for percent in range(50):
                    tracker.update("analysis", percent)
                tracker.complete()
            self.assertEqual(hub.record(pid)["seq"], 51)
            self.assertEqual(proxy.connections, 1)
        finally:
            proxy.close()

    def test_a_dropped_connection_is_reopened(self):
        # The first connection is cut before the hub sees the request: resending is always safe.
        proxy = Proxy(hub.port, plan=["refuse"])
        try:
            pid = new_process_id()
            tracker = ProgressTracker(pid, proxy.url)
            self.assertEqual(tracker.update("analysis", 10), {"process_id": pid, "seq": 1})
            tracker.close()
            self.assertEqual(proxy.connections, 2)
            self.assertEqual(hub.record(pid)["seq"], 1)
        finally:
            proxy.close()

    def test_503_is_retried(self):
        proxy = Proxy(hub.port, plan=["unavailable", "unavailable"])
        try:
            pid = new_process_id()
            tracker = ProgressTracker(pid, proxy.url)
            self.assertEqual(tracker.update("analysis", 10), {"process_id": pid, "seq": 1})
            self.assertEqual(proxy.connections, 3)
        finally:
            proxy.close()

    def test_503_past_the_retry_deadline_raises_unavailable(self):
        proxy = Proxy(hub.port, plan=["unavailable"] * 1000)
        try:
            tracker = ProgressTracker(new_process_id(), proxy.url, retry_for=0.5)
            with self.assertRaises(ProgressHubError) as gave_up:
                tracker.update("analysis", 10)
            self.assertEqual((gave_up.exception.code, gave_up.exception.status), ("unavailable", 503))
            self.assertEqual(gave_up.exception.message, "the hub is shutting down")
        finally:
            proxy.close()

    def test_an_unreachable_hub_raises_after_the_retry_deadline(self):
        proxy = Proxy(hub.port, plan=["refuse"] * 1000)
        try:
            tracker = ProgressTracker(new_process_id(), proxy.url, retry_for=0.5)
            with self.assertRaises(ProgressHubError) as gave_up:
                tracker.update("analysis", 10)
            self.assertEqual((gave_up.exception.code, gave_up.exception.status), ("unreachable", None))
            self.assertGreater(proxy.connections, 1)
        finally:
            proxy.close()


if __name__ == "__main__":
    unittest.main()

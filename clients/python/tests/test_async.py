"""AsyncProgressTracker: the same calls awaited, as a FastAPI background task makes them."""

import asyncio
import unittest

from hub_harness import Hub, new_process_id
from progress_hub import AsyncProgressTracker, ProgressHubError, ProgressStage

hub = None


def setUpModule():
    global hub
    hub = Hub()


def tearDownModule():
    hub.stop()


class AsyncTrackerTest(unittest.TestCase):
    def test_job_to_completed(self):
        pid = new_process_id()

        async def job():
            async with AsyncProgressTracker(pid, hub.url) as tracker:
                for stage in ProgressStage:
                    await tracker.update(stage, 10, f"in {stage}")
                return await tracker.complete({"stages": len(ProgressStage)})

        self.assertEqual(asyncio.run(job()), {"process_id": pid, "seq": 5})
        done = hub.record(pid)
        self.assertEqual((done["state"], done["result"]), ("completed", {"stages": 4}))
        self.assertEqual([s["name"] for s in done["stages"]],
                         ["upload_received", "checksum", "text_extraction", "analysis"])

    def test_jobs_run_side_by_side(self):
        pids = [new_process_id() for _ in range(4)]

        async def job(pid):
            tracker = AsyncProgressTracker(pid, hub.url)
            for percent in range(0, 100, 10):
                await tracker.update("analysis", percent)
            await tracker.cancel()
            await tracker.close()

        async def all_jobs():
            await asyncio.gather(*(job(pid) for pid in pids))

        asyncio.run(all_jobs())
        self.assertEqual({hub.record(pid)["state"] for pid in pids}, {"cancelled"})

    def test_block_that_raises_fails_the_job(self):
        pid = new_process_id()

        async def job():
            async with AsyncProgressTracker(pid, hub.url) as tracker:
                await tracker.update("text_extraction", 5)
                raise ValueError("not a PDF")

        with self.assertRaisesRegex(ValueError, "not a PDF"):
            asyncio.run(job())
        self.assertEqual((hub.record(pid)["state"], hub.record(pid)["error"]), ("failed", "not a PDF"))

    def test_refusal_raises_in_the_coroutine(self):
        async def job():
            tracker = AsyncProgressTracker(new_process_id(), hub.url)
            await tracker.fail("early")
            await tracker.update("analysis", 1)

        with self.assertRaises(ProgressHubError) as refused:
            asyncio.run(job())
        self.assertEqual(refused.exception.code, "process_finished")


if __name__ == "__main__":
    unittest.main()

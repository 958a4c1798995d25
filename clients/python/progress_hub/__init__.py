"""Publish job progress to a progress-hub from Python (standard library only).

    from progress_hub import ProgressTracker, ProgressStage

    with ProgressTracker(process_id, "http://127.0.0.1:8000") as tracker:
        tracker.update(ProgressStage.TEXT_EXTRACTION, 30, "extracting text")
        tracker.complete({"pages": 3})

See clients/python/README.md.
"""

from .async_tracker import AsyncProgressTracker
from .errors import ProgressHubError
from .stages import ProgressStage
from .token import mint_token
from .tracker import ProgressTracker

__all__ = ["AsyncProgressTracker", "ProgressHubError", "ProgressStage", "ProgressTracker", "mint_token"]
__version__ = "0.1.0"

"""Stage names of the demo document job (native/server/jobs/document_analysis.hpp)."""

import enum


class ProgressStage(str, enum.Enum):
    """The built-in upload job's stages, in order. A member is a ``str``, so it goes into JSON as
    its value, and any other string works as a stage too.

    There is deliberately no ``COMPLETED`` or ``FAILED`` member: a finished job is a *state*, sent
    by ``complete()`` / ``fail()``. A hub with strict publishes refuses a stage named like a
    terminal state without a ``state``.
    """

    UPLOAD_RECEIVED = "upload_received"
    CHECKSUM = "checksum"
    TEXT_EXTRACTION = "text_extraction"
    ANALYSIS = "analysis"

    def __str__(self):
        return self.value

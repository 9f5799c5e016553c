"""What every hall speaker is to the rest of hwd: the ``speaker.*`` RPC methods and their params.

The kind owns this contract, not its text-to-speech engines: a voice pack, espeak-ng and a
vendor command all take ``speaker.announce`` with these params. ``SpeakerDevice`` (base.py)
implements it once for them all. See docs/drivers/speaker.md.
"""

from __future__ import annotations

from hwd.device import Device, MethodSpec
from hwd.schema import Field


class Speaker(Device):
    kind = "speaker"
    methods = (
        MethodSpec("announce", (Field("text", str, None), Field("template", str, None), Field("params", dict, {}),
                                Field("repeat", int, None, min=1, max=5), Field("chime", bool, None)),
                   in_worker=False,
                   doc="Queue an announcement: text, or template (\"call\") with params {ticket, window}: "
                       "{job, text, queued}."),
        MethodSpec("chime", in_worker=False,
                   doc="Queue the chime alone (e.g. before a clerk speaks on the microphone): {job, text, queued}."),
        MethodSpec("stop", in_worker=False, offline_ok=True,
                   doc="Cut the announcement being played and drop the queued ones: {cancelled}."),
    )

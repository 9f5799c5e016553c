"""Hall broadcast (大厅广播): Mandarin call announcements, queued per speaker, played or written.

The device's driver names its text-to-speech engine; its URL names the output (``alsa://``,
``file://DIR/``, ``null://``, ``sim://``).
"""

INTERFACE = "drivers.speaker.interface:Speaker"

DRIVERS = {
    "voicepack": "drivers.speaker.voicepack:VoicePackSpeaker",
    "espeak": "drivers.speaker.espeak:EspeakSpeaker",
    "command": "drivers.speaker.command:CommandSpeaker",
}

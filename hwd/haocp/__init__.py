"""What the provincial 好差评 platforms take, as data: the payload-map language (payload) and each
platform's profile (profiles). Pure: no I/O, nothing of the hall or of a sink. Read by the hall's
config (``[hall.upstream] profile`` and ``[hall.upstream.profiles]`` are checked with the config,
every problem with its line) and by the sink that sends the records (hwd.upstream.profile_sink)."""

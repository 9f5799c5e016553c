"""The queue's rules (取号 → 叫号 → 办理): issuing, calling, windows, transfers and the day
rollover (core), which ticket a window calls next (selection), the wait estimate, opening hours
and the official calendar, appointments, the guide desk, and tidal-window alerts."""

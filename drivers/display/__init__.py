"""Window LED screens (窗口屏): vendor frames from config, host-rendered bitmaps, browser screens."""

INTERFACE = "drivers.display.interface:Display"

DRIVERS = {
    "frame": "drivers.display.frame:FrameScreen",
    "bitmap": "drivers.display.bitmap:BitmapScreen",
    "web": "drivers.display.web:WebScreen",
}

# For bench/run-remote.sh view with VIEW_TRACE=FILE: polls the centre pixel of X display argv[1]
# every ~0.5 ms and writes "<CLOCK_MONOTONIC ns> <white 0|1> <CLOCK_REALTIME ns>" to argv[2] on each
# change, so that a press's time splits into "sent -> drawn on the desktop" and "drawn -> seen by
# the viewer" (bench/view-split.py).
import ctypes, sys, time
x11 = ctypes.CDLL("libX11.so.6")
x11.XOpenDisplay.restype = ctypes.c_void_p
x11.XOpenDisplay.argtypes = [ctypes.c_char_p]
x11.XDefaultRootWindow.restype = ctypes.c_ulong
x11.XDefaultRootWindow.argtypes = [ctypes.c_void_p]
x11.XGetImage.restype = ctypes.c_void_p
x11.XGetImage.argtypes = [ctypes.c_void_p, ctypes.c_ulong, ctypes.c_int, ctypes.c_int, ctypes.c_uint, ctypes.c_uint, ctypes.c_ulong, ctypes.c_int]
x11.XGetPixel.restype = ctypes.c_ulong
x11.XGetPixel.argtypes = [ctypes.c_void_p, ctypes.c_int, ctypes.c_int]
x11.XDestroyImage.argtypes = [ctypes.c_void_p]
x11.XDisplayWidth.argtypes = [ctypes.c_void_p, ctypes.c_int]
x11.XDisplayHeight.argtypes = [ctypes.c_void_p, ctypes.c_int]
d = x11.XOpenDisplay(sys.argv[1].encode())
root = x11.XDefaultRootWindow(d)
w, h = x11.XDisplayWidth(d, 0), x11.XDisplayHeight(d, 0)
last = None
out = open(sys.argv[2], "w", buffering=1)
while True:
    img = x11.XGetImage(d, root, w // 2, h // 2, 1, 1, 0xffffffff, 2)
    p = x11.XGetPixel(img, 0, 0)
    x11.XDestroyImage(img)
    white = 1 if ((p >> 16 & 255) + (p >> 8 & 255) + (p & 255)) > 384 else 0
    if white != last:
        out.write("%d %d %d\n" % (time.clock_gettime_ns(time.CLOCK_MONOTONIC), white, time.time_ns()))
        last = white
    time.sleep(0.0005)

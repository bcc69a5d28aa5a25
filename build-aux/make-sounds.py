#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-3.0-or-later
# make-sounds.py DIR: writes the gate's verdict sounds into DIR at build time,
# synthesised so their origin and licence are plain: rising for admit,
# a low buzz for refuse, rising then falling for admit-offline (listen
# twice), falling for an exit (admit's mirror: someone going, not coming).
# The build bundles them as resources.
import math
import struct
import sys
import wave

RATE = 22050


def tone(freq, seconds, volume=0.5, square=False):
    n = int(RATE * seconds)
    fade = int(RATE * 0.01)
    out = []
    for i in range(n):
        s = math.sin(2 * math.pi * freq * i / RATE)
        if square:
            s = 0.6 if s >= 0 else -0.6
        # Short fades at both ends: no clicks.
        env = min(1.0, i / fade, (n - i) / fade)
        out.append(volume * env * s)
    return out


def silence(seconds):
    return [0.0] * int(RATE * seconds)


SOUNDS = {
    "admit": tone(660, 0.11) + tone(880, 0.16),
    "refuse": tone(196, 0.18, 0.45, True) + silence(0.06) + tone(196, 0.28, 0.45, True),
    "offline": tone(660, 0.11) + tone(880, 0.11) + tone(660, 0.16),
    "exit": tone(880, 0.11) + tone(523, 0.2),
}

for name, samples in SOUNDS.items():
    with wave.open(f"{sys.argv[1]}/{name}.wav", "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(RATE)
        w.writeframes(b"".join(struct.pack("<h", int(s * 32767)) for s in samples))

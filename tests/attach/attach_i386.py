#!/usr/bin/env python3
"""attach_i386.py OUT - writes a 108-byte 32-bit x86 (i386) executable
that loops on nanosleep(1 s) for ever: a process of another architecture
for attach_refuse.sh (runs where the kernel has IA-32 emulation)."""
import struct
import sys

BASE = 0x08048000
HEAD = 52 + 32  # ELF header, one program header
# mov ebx, ts; xor ecx, ecx; mov eax, 162 (nanosleep); int 0x80; jmp start
code = (b"\xbb" + struct.pack("<I", BASE + HEAD + 16) + b"\x31\xc9" +
        b"\xb8\xa2\x00\x00\x00" + b"\xcd\x80" + b"\xeb\xf0")
ts = struct.pack("<II", 1, 0)
body = code + ts
size = HEAD + len(body)
ehdr = (b"\x7fELF\x01\x01\x01" + b"\x00" * 9 +
        struct.pack("<HHIIIIIHHHHHH", 2, 3, 1, BASE + HEAD, 52, 0, 0, 52, 32,
                    1, 0, 0, 0))
phdr = struct.pack("<IIIIIIII", 1, 0, BASE, BASE, size, size, 5, 0x1000)
with open(sys.argv[1], "wb") as f:
    f.write(ehdr + phdr + body)

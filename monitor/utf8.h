/* SPDX-License-Identifier: MIT */
/*
 * qapikit monitor: decoding one UTF-8 sequence, for the JSON reader
 * (which accepts only well-formed strings, docs/spec/qmp-protocol.md §7)
 * and the writer (which escapes everything above 0x7F, §1/7).
 */
#ifndef QAPIKIT_MONITOR_UTF8_H
#define QAPIKIT_MONITOR_UTF8_H

#include <stddef.h>
#include <stdint.h>

/*
 * The code point of the well-formed UTF-8 sequence of two to four bytes
 * at P (P[0] >= 0x80, AVAIL bytes readable), storing its length in *LEN;
 * or -1 when it is malformed: a stray continuation byte, an overlong
 * form, a surrogate, above U+10FFFF, or truncated within AVAIL.
 * Inline: the reader's fast path calls it for every non-ASCII character.
 */
static inline int32_t qmp_utf8_decode(const unsigned char *p, size_t avail,
                                      size_t *len)
{
    unsigned char c = p[0], lo = 0x80, hi = 0xBF;
    size_t n;
    int32_t cp;

    if (c < 0xC2) {
        return -1;
    } else if (c < 0xE0) {
        n = 2;
    } else if (c < 0xF0) {
        n = 3;
        lo = c == 0xE0 ? 0xA0 : 0x80;
        hi = c == 0xED ? 0x9F : 0xBF;
    } else if (c < 0xF5) {
        n = 4;
        lo = c == 0xF0 ? 0x90 : 0x80;
        hi = c == 0xF4 ? 0x8F : 0xBF;
    } else {
        return -1;
    }
    if (avail < n || p[1] < lo || p[1] > hi) {
        return -1;
    }
    cp = c & (0x7F >> n);
    for (size_t k = 1; k < n; k++) {
        if ((p[k] & 0xC0) != 0x80) {
            return -1;
        }
        cp = (cp << 6) | (p[k] & 0x3F);
    }
    *len = n;
    return cp;
}

#endif /* QAPIKIT_MONITOR_UTF8_H */

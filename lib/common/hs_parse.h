/* hs_parse.h - parsing of setting values, shared by the shim and the tools.
 *
 * No allocation, no locale, no stdio: the shim calls these while it starts,
 * before it may use the C library's heavier parts. Each returns 0 on success
 * or HS_EINVAL, leaving *out untouched on failure. */
#ifndef HS_PARSE_H
#define HS_PARSE_H

#include <stdint.h>

/*! Parses a signal name ("USR2", "SIGUSR2", "RTMIN+3", "SIGRTMAX-1") or a
 * number (1..SIGRTMAX). "0" and "none" give 0 (no signal). Case-insensitive.
 * Refuses SIGKILL, SIGSTOP and the synchronous fault signals. */
int hs__parse_signal(const char *s, int *out);

/*! Parses a non-negative decimal number of seconds ("2", "0.25", "1e-1" is
 * refused) into nanoseconds. At most 10^9 seconds; a time above 0 that is
 * less than a nanosecond is refused (it would read as 0). */
int hs__parse_seconds(const char *s, uint64_t *out_ns);

/*! Parses a decimal unsigned integer within [min, max]. */
int hs__parse_u64(const char *s, uint64_t min, uint64_t max, uint64_t *out);

/*! Parses a size in bytes: digits, then optionally "B" or a binary unit
 * K, M, G or T (2^10 ... 2^40, case-insensitive) that may be followed by "iB"
 * or "B" (so "512K", "512k", "512KiB" and "512KB" are all 524288). With a unit
 * the number may have a fraction of up to 6 digits ("1.5G"), rounded down
 * to whole bytes; without one it may not. No sign, no spaces, no exponent.
 * At most max bytes. */
int hs__parse_bytes(const char *s, uint64_t max, uint64_t *out);

/*! Parses a boolean: 1/0, yes/no, true/false, on/off (case-insensitive). */
int hs__parse_bool(const char *s, int *out);

/*! Writes the canonical name of `sig` ("SIGUSR2", "SIGRTMIN+3") into buf
 * (NUL-terminated, at most len bytes). */
void hs__signal_name(int sig, char *buf, unsigned len);

#endif /* HS_PARSE_H */

/* hd_symprint.h - printing what the symbolizer found, the same way in every
 * tool: one source frame, and the one line that says why a module has no
 * symbols. heapdiff's text report and `heapsnap dump` both use it. */
#ifndef HD_SYMPRINT_H
#define HD_SYMPRINT_H

#include <stdint.h>
#include <stdio.h>

#include "hd_symbols.h"

/*! Prints one frame of hd_symbolize() and a newline: "function  file:line"
 * (the function's display name, hd_name_simplify(), as heapdiff shows it)
 * (the file's last component), "function  (module)" without line info, or
 * "module+0xOFFSET" when the function is unknown; "  (inlined)" after an
 * inlined frame. `module` is the module's path (its last component is
 * shown; NULL shows "?"), `offset` the frame's module offset. The function
 * name is printed between `on` and `off` (terminal attributes, or ""). */
void hd_frame_put(FILE *out, const hd_frame *f, const char *module,
                  uint64_t offset, const char *on, const char *off);

/*! Prints "no symbols for PATH (WHY)\n", WHY being the reason from
 * hd_symbolizer_module_status() without PATH when it starts with it. */
void hd_symbols_put_missing(FILE *out, const char *path, const char *why);

#endif /* HD_SYMPRINT_H */

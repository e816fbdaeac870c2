/* hd_symprint.c - printing symbolized frames and missing symbols, shared by
 * heapdiff's report and `heapsnap dump` (hd_symprint.h). */
#include <inttypes.h>
#include <string.h>

#include "hd_short.h"
#include "hd_symprint.h"
#include "hs_tool.h"

void hd_frame_put(FILE *out, const hd_frame *f, const char *module,
                  uint64_t offset, const char *on, const char *off) {
  if (f->function) {
    char name[4096];
    hd_name_simplify(f->function, name, sizeof name);
    fputs(on, out);
    hs__tool_put_safe(out, name);
    fputs(off, out);
    if (f->file) {
      fputs("  ", out);
      hs__tool_put_safe(out, hs__tool_basename(f->file));
      fprintf(out, ":%u", f->line);
    } else {
      fputs("  (", out);
      hs__tool_put_safe(out, hs__tool_basename(module));
      fputc(')', out);
    }
  } else {
    hs__tool_put_safe(out, hs__tool_basename(module));
    fprintf(out, "+%#" PRIx64, offset);
  }
  fputs(f->inlined ? "  (inlined)\n" : "\n", out);
}

void hd_symbols_put_missing(FILE *out, const char *path, const char *why) {
  if (!why)
    why = "no symbols";
  const size_t len = strlen(path);
  if (!strncmp(why, path, len) && !strncmp(why + len, ": ", 2))
    why += len + 2; /* the reason names the file already */
  fputs("no symbols for ", out);
  hs__tool_put_safe(out, path);
  fputs(" (", out);
  hs__tool_put_safe(out, why);
  fputs(")\n", out);
}

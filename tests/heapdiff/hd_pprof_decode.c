/* hd_pprof_decode - reads a heapdiff --pprof file back with protobuf-c and
 * checks what the strictest readers require of it: gzip, string_table[0]
 * empty, every Mapping, Location and Function id equal to its index + 1
 * (Parca), no zero id or reference, every reference in range, sample type
 * names without '-' (Pyroscope), as many values per sample as sample
 * types, default_sample_type one of them.
 *
 * usage: hd_pprof_decode FILE
 * Prints one line per broken rule ("FAIL ...") and exits 1, or prints
 * "ok ..." with the counts and exits 0; 2 when the file cannot be read. */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>

#include "profile.pb-c.h"

static int fails;

static void expect(int ok, const char *what, uint64_t i) {
  if (!ok) {
    printf("FAIL %s (item %" PRIu64 ")\n", what, i);
    fails++;
  }
}

/* The whole gunzipped file, malloc'ed; NULL when it is not gzip. */
static uint8_t *gunzip(const char *path, size_t *len) {
  FILE *f = fopen(path, "rb");
  unsigned char magic[2] = {0, 0};
  const int gz =
      f && fread(magic, 1, 2, f) == 2 && magic[0] == 0x1f && magic[1] == 0x8b;
  if (f)
    fclose(f);
  gzFile z = gz ? gzopen(path, "rb") : NULL;
  size_t cap = 1 << 16;
  uint8_t *buf = z ? malloc(cap) : NULL;
  *len = 0;
  int n;
  while (buf && (n = gzread(z, buf + *len, (unsigned)(cap - *len))) > 0) {
    *len += (size_t)n;
    if (*len == cap)
      buf = realloc(buf, cap *= 2);
  }
  if (z && gzclose(z) != Z_OK) {
    free(buf);
    buf = NULL;
  }
  return buf;
}

static int str_ok(const Perftools__Profiles__Profile *p, int64_t i) {
  return i >= 0 && (uint64_t)i < p->n_string_table;
}

static void check_mappings(const Perftools__Profiles__Profile *p) {
  for (size_t i = 0; i < p->n_mapping; i++) {
    const Perftools__Profiles__Mapping *m = p->mapping[i];
    expect(m->id == i + 1, "mapping id is index + 1", i);
    expect(str_ok(p, m->filename) && m->filename != 0,
           "mapping filename is a nonempty string", i);
    expect(str_ok(p, m->build_id), "mapping build_id is a string", i);
    expect(m->memory_start < m->memory_limit, "mapping range not empty", i);
  }
}

static void check_functions(const Perftools__Profiles__Profile *p) {
  for (size_t i = 0; i < p->n_function; i++) {
    const Perftools__Profiles__Function *f = p->function[i];
    expect(f->id == i + 1, "function id is index + 1", i);
    expect(str_ok(p, f->name) && f->name != 0, "function has a name", i);
    expect(str_ok(p, f->system_name) && f->system_name != 0,
           "function has a system name", i);
    expect(str_ok(p, f->filename), "function filename is a string", i);
  }
}

static void check_locations(const Perftools__Profiles__Profile *p) {
  for (size_t i = 0; i < p->n_location; i++) {
    const Perftools__Profiles__Location *l = p->location[i];
    expect(l->id == i + 1, "location id is index + 1", i);
    expect(l->mapping_id >= 1 && l->mapping_id <= p->n_mapping,
           "location mapping_id names a mapping", i);
    if (l->mapping_id >= 1 && l->mapping_id <= p->n_mapping) {
      const Perftools__Profiles__Mapping *m = p->mapping[l->mapping_id - 1];
      expect(l->address >= m->memory_start && l->address < m->memory_limit,
             "location address inside its mapping", i);
    }
    for (size_t j = 0; j < l->n_line; j++)
      expect(l->line[j]->function_id >= 1 &&
                 l->line[j]->function_id <= p->n_function,
             "line function_id names a function", i);
  }
}

static void check_samples(const Perftools__Profiles__Profile *p) {
  for (size_t i = 0; i < p->n_sample; i++) {
    const Perftools__Profiles__Sample *s = p->sample[i];
    expect(s->n_value == p->n_sample_type, "one value per sample type", i);
    for (size_t j = 0; j < s->n_location_id; j++)
      expect(s->location_id[j] >= 1 && s->location_id[j] <= p->n_location,
             "sample location_id names a location", i);
    for (size_t j = 0; j < s->n_label; j++)
      expect(str_ok(p, s->label[j]->key) && s->label[j]->key != 0 &&
                 str_ok(p, s->label[j]->str) && s->label[j]->str != 0,
             "label key and value are nonempty strings", i);
  }
}

static void check_types(const Perftools__Profiles__Profile *p) {
  int dflt = 0;
  expect(p->n_sample_type > 0, "sample types", 0);
  for (size_t i = 0; i < p->n_sample_type; i++) {
    const int64_t t = p->sample_type[i]->type, u = p->sample_type[i]->unit;
    expect(str_ok(p, t) && str_ok(p, u) && t && u, "type and unit named", i);
    if (str_ok(p, t))
      expect(!strchr(p->string_table[t], '-'), "type name without '-'", i);
    dflt |= t == p->default_sample_type;
  }
  expect(dflt, "default_sample_type is a sample type", 0);
  for (size_t i = 0; i < p->n_comment; i++)
    expect(str_ok(p, p->comment[i]), "comment is a string", i);
}

int main(int argc, char **argv) {
  if (argc != 2) {
    fprintf(stderr, "usage: hd_pprof_decode FILE\n");
    return 2;
  }
  size_t len;
  uint8_t *buf = gunzip(argv[1], &len);
  Perftools__Profiles__Profile *p =
      buf ? perftools__profiles__profile__unpack(NULL, len, buf) : NULL;
  free(buf);
  if (!p) {
    printf("FAIL %s: not a gzipped profile.proto\n", argv[1]);
    return 2;
  }
  expect(p->n_string_table > 0 && p->string_table[0][0] == '\0',
         "string_table[0] is empty", 0);
  check_types(p);
  check_mappings(p);
  check_functions(p);
  check_locations(p);
  check_samples(p);
  if (!fails)
    printf("ok %s: %zu samples, %zu locations, %zu functions, %zu mappings, "
           "%zu strings: ids are index + 1, none zero, all in range\n",
           argv[1], p->n_sample, p->n_location, p->n_function, p->n_mapping,
           p->n_string_table);
  perftools__profiles__profile__free_unpacked(p, NULL);
  return fails ? 1 : 0;
}

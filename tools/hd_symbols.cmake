# hdsymbols: heapdiff's offline symbolizer (hd_symbols.h) over elfutils
# libdwfl, demangling with libstdc++'s __cxa_demangle. Included from
# tools/CMakeLists.txt; needs the top level's PkgConfig::LIBDW (libdw-dev).
if(NOT LIBDW_FOUND)
  message(FATAL_ERROR "heapdiff needs elfutils' libdw (package libdw-dev, "
                      "pkg-config name libdw) to symbolize stacks")
endif()

add_library(hdsymbols STATIC ${CMAKE_CURRENT_LIST_DIR}/hd_symbols.c)
target_include_directories(hdsymbols PUBLIC ${CMAKE_CURRENT_LIST_DIR})
target_compile_options(hdsymbols PRIVATE ${HS_WARNINGS})
# hsformat is public: hd_symbols.h takes hs_module from hs_snapshot.h.
target_link_libraries(hdsymbols PUBLIC hsformat PRIVATE PkgConfig::LIBDW stdc++)
hs_sanitize(hdsymbols)

# check_symbols.cmake - fails when hs_writer.c.o in ARCHIVE refers to an
cmake_minimum_required(VERSION 3.18) # IN_LIST
# allocator or stdio function (run by ctest as format_writer_symbols).
# usage: cmake -DARCHIVE=libhsformat.a -DNM=nm -P check_symbols.cmake
execute_process(COMMAND ${NM} -u ${ARCHIVE} OUTPUT_VARIABLE out
                RESULT_VARIABLE rc)
if(NOT rc EQUAL 0)
  message(FATAL_ERROR "${NM} -u ${ARCHIVE} failed")
endif()
# nm prints "member.o:" before each member's symbols
string(REGEX MATCH "hs_writer\\.c\\.o:\n[^:]*" writer "${out}")
if(NOT writer)
  message(FATAL_ERROR "no hs_writer.c.o in ${ARCHIVE}")
endif()
set(banned malloc calloc realloc free reallocarray posix_memalign
    aligned_alloc memalign valloc strdup strndup fopen fdopen fclose fwrite
    fread fflush fputs fputc puts putchar printf fprintf vfprintf sprintf
    snprintf vsnprintf perror stdout stderr __printf_chk __fprintf_chk
    __sprintf_chk __snprintf_chk __vfprintf_chk __vsnprintf_chk)
string(REPLACE "\n" ";" lines "${writer}")
foreach(line IN LISTS lines)
  string(REGEX REPLACE "^ *U +" "" sym "${line}")
  string(REGEX REPLACE "@.*" "" sym "${sym}")
  if(sym IN_LIST banned)
    message(FATAL_ERROR "hs_writer.c.o refers to ${sym}")
  endif()
endforeach()
message(STATUS "hs_writer.c.o refers to no allocator and no stdio")

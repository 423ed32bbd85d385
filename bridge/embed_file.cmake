# Writes a C++ source defining `std::string_view NAME()` that returns the
# contents of INPUT, so a page is compiled into the binary (no files to ship).
# Usage: cmake -DINPUT=a.html -DOUTPUT=a.cc -DNAMESPACE=ns -DNAME=Fn -P embed_file.cmake
file(READ "${INPUT}" content)
string(FIND "${content}" ")EMBEDDED\"" clash)
if(NOT clash EQUAL -1)
  message(FATAL_ERROR "${INPUT} contains the raw-string delimiter )EMBEDDED\"")
endif()
file(WRITE "${OUTPUT}.tmp"
  "// Generated from ${INPUT} by embed_file.cmake; do not edit.\n"
  "#include <string_view>\n\nnamespace ${NAMESPACE} {\n\n"
  "std::string_view ${NAME}() {\n  static constexpr std::string_view kText = R\"EMBEDDED(${content})EMBEDDED\";\n"
  "  return kText;\n}\n\n}  // namespace ${NAMESPACE}\n")
file(COPY_FILE "${OUTPUT}.tmp" "${OUTPUT}" ONLY_IF_DIFFERENT)
file(REMOVE "${OUTPUT}.tmp")

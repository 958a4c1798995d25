# Writes a .cpp holding every tests/vectors/*.json as a raw string literal (BoringSSL's
# GetTestData idea): the runner reads no files, so the wasm build needs no filesystem.
# Inputs: VECTOR_DIR, OUTPUT.
file(GLOB _files RELATIVE ${VECTOR_DIR} ${VECTOR_DIR}/*.json)
list(SORT _files)
set(_body "#include \"embedded_vectors.hpp\"\n\nnamespace progress::vectors {\nnamespace {\n")
set(_table "")
set(_i 0)
foreach(_f IN LISTS _files)
  file(READ ${VECTOR_DIR}/${_f} _text)
  string(APPEND _body "const char kFile${_i}[] = R\"vEcToR(${_text})vEcToR\";\n")
  string(APPEND _table "    {\"${_f}\", kFile${_i}},\n")
  math(EXPR _i "${_i} + 1")
endforeach()
string(APPEND _body "const EmbeddedFile kFiles[] = {\n${_table}    {nullptr, nullptr}};\n}  // namespace\n\n")
string(APPEND _body "std::span<const EmbeddedFile> embedded_files() { return {kFiles, ${_i}}; }\n\n}  // namespace progress::vectors\n")
file(WRITE ${OUTPUT}.tmp "${_body}")
file(COPY_FILE ${OUTPUT}.tmp ${OUTPUT} ONLY_IF_DIFFERENT)

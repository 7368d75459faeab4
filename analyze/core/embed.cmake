# Generates a C++ source holding every file below DATA_DIR as a string, run at
# build time so edits to the data files rebuild the analyzer.
file(GLOB_RECURSE files RELATIVE ${DATA_DIR} ${DATA_DIR}/*.conf)
list(SORT files)
set(body "")
set(table "")
set(i 0)
foreach(f ${files})
  file(READ ${DATA_DIR}/${f} content)
  # Raw string literal; the delimiter cannot occur in our data files.
  string(APPEND body "static const char k${i}[] = R\"capaudit_data(${content})capaudit_data\";\n")
  string(APPEND table "    {\"${f}\", std::string_view(k${i}, sizeof(k${i}) - 1)},\n")
  math(EXPR i "${i} + 1")
endforeach()
file(WRITE ${OUT}.tmp "// Generated from analyze/data by analyze/core/embed.cmake; do not edit.
#include \"analyze/core/embedded_data.h\"

namespace capaudit::analyze {
namespace {
${body}}  // namespace

const std::vector<EmbeddedFile>& embedded_files() {
  static const std::vector<EmbeddedFile> files{
${table}  };
  return files;
}

std::optional<std::string_view> embedded_file(std::string_view name) {
  for (const auto& f : embedded_files())
    if (f.name == name) return f.text;
  return std::nullopt;
}

}  // namespace capaudit::analyze
")
execute_process(COMMAND ${CMAKE_COMMAND} -E copy_if_different ${OUT}.tmp ${OUT})

# Generates a .cpp that holds the Lua scripts as string literals (cmake -P script).
# Inputs: DIR (folder of *.lua), NAMES (semicolon list), OUT (file to write).
set(body "// Generated from src/cluster/lua/*.lua by cmake/embed_lua.cmake. Do not edit.\n")
string(APPEND body "#include \"cluster/scripts.hpp\"\n\nnamespace frontmcp::cluster {\n\n")
string(APPEND body "std::string_view lua_source(std::string_view name) {\n")
foreach(n IN LISTS NAMES)
  file(READ "${DIR}/${n}.lua" src)
  string(APPEND body "  if (name == \"${n}\") return R\"frontmcp_lua(${src})frontmcp_lua\";\n")
endforeach()
string(APPEND body "  return {};\n}\n\n}  // namespace frontmcp::cluster\n")
file(WRITE "${OUT}.tmp" "${body}")
execute_process(COMMAND ${CMAKE_COMMAND} -E copy_if_different "${OUT}.tmp" "${OUT}")

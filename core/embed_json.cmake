# Writes the JSON file IN as a C++ string constant into OUT.
file(READ ${IN} CONTENT)
file(WRITE ${OUT} "// Generated from resources/stages.json; do not edit.\nnamespace parallax {\nextern const char* kStagesJson;\nconst char* kStagesJson = R\"PARALLAX_JSON(${CONTENT})PARALLAX_JSON\";\n}  // namespace parallax\n")

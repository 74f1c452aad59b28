# Warnings for our own targets (not for third-party headers).
add_library(rtcore_warnings INTERFACE)
target_compile_options(rtcore_warnings INTERFACE -Wall -Wextra $<$<BOOL:${RTCORE_WERROR}>:-Werror>)

if(RTCORE_SANITIZE)
  add_compile_options(-fsanitize=address,undefined -fno-sanitize-recover=all -fno-omit-frame-pointer)
  add_link_options(-fsanitize=address,undefined)
endif()

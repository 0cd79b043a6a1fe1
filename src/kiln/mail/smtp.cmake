# SMTP transport: reply parser, SOCKS5, the SmtpClient, sender checks.
list(APPEND KILN_MAIL_SOURCES
  ${CMAKE_CURRENT_LIST_DIR}/smtp_reply.cpp
  ${CMAKE_CURRENT_LIST_DIR}/socks5.cpp
  ${CMAKE_CURRENT_LIST_DIR}/smtp_client.cpp
  ${CMAKE_CURRENT_LIST_DIR}/tls_names.cpp
  ${CMAKE_CURRENT_LIST_DIR}/sender_check.cpp)

if(KILN_BUILD_TESTS)
  # Tests' view of scripts/mailstack (ports, users, Maildirs); other mail tests may link it too.
  kiln_library(kiln_testing_mailstack
    SOURCES ${CMAKE_SOURCE_DIR}/src/kiln/testing/mailstack.cpp
    DEPS kiln_base)
endif()

kiln_test(mail_smtp_test
  SOURCES
    ${CMAKE_CURRENT_LIST_DIR}/smtp_reply_test.cpp
    ${CMAKE_CURRENT_LIST_DIR}/smtp_client_test.cpp
    ${CMAKE_CURRENT_LIST_DIR}/smtp_fake_server.cpp
  DEPS kiln_mail kiln_testing_mailstack)
kiln_test(mail_smtp_integration_test
  SOURCES
    ${CMAKE_CURRENT_LIST_DIR}/smtp_integration_test.cpp
    ${CMAKE_CURRENT_LIST_DIR}/sender_check_test.cpp
    ${CMAKE_CURRENT_LIST_DIR}/dsn_integration_test.cpp
  DEPS kiln_mail kiln_testing_mailstack)

# clang 14 cannot compile C++20 coroutines under -fsanitize=function (part of "undefined", used by
# KILN_FUZZ and KILN_SANITIZE): "Cannot represent a difference across sections". Drop just that
# check for the coroutine sources.
if(CMAKE_CXX_COMPILER_ID MATCHES "Clang" AND (KILN_FUZZ OR KILN_SANITIZE))
  set_source_files_properties(
    ${CMAKE_CURRENT_LIST_DIR}/socks5.cpp
    ${CMAKE_CURRENT_LIST_DIR}/smtp_client.cpp
    ${CMAKE_CURRENT_LIST_DIR}/sender_check.cpp
    PROPERTIES COMPILE_OPTIONS -fno-sanitize=function)
endif()

# Composition and signing: message.h, MIME writer, HTML-to-text, DKIM.
list(APPEND KILN_MAIL_SOURCES
  ${CMAKE_CURRENT_LIST_DIR}/mime_util.cpp
  ${CMAKE_CURRENT_LIST_DIR}/html_to_text.cpp
  ${CMAKE_CURRENT_LIST_DIR}/mime_writer.cpp
  ${CMAKE_CURRENT_LIST_DIR}/dkim.cpp)

kiln_test(mail_compose_test
  SOURCES
    ${CMAKE_CURRENT_LIST_DIR}/html_to_text_test.cpp
    ${CMAKE_CURRENT_LIST_DIR}/mime_writer_test.cpp
    ${CMAKE_CURRENT_LIST_DIR}/dkim_test.cpp
  DEPS kiln_mail Boost::json)
if(TARGET mail_compose_test)
  target_compile_definitions(mail_compose_test PRIVATE KILN_TEST_SOURCE_DIR="${CMAKE_SOURCE_DIR}")
endif()

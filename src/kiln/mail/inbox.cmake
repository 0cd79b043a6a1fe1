# Receiving: Inbox (IMAP via vmime), parsed incoming messages, classifiers.
list(APPEND KILN_MAIL_SOURCES
  ${CMAKE_CURRENT_LIST_DIR}/incoming.cpp
  ${CMAKE_CURRENT_LIST_DIR}/classify.cpp
  ${CMAKE_CURRENT_LIST_DIR}/classify_autoreply.cpp
  ${CMAKE_CURRENT_LIST_DIR}/classify_bounce.cpp
  ${CMAKE_CURRENT_LIST_DIR}/classify_complaint.cpp
  ${CMAKE_CURRENT_LIST_DIR}/classify_reply.cpp
  ${CMAKE_CURRENT_LIST_DIR}/classify_warmup.cpp
  ${CMAKE_CURRENT_LIST_DIR}/imap_inbox.cpp
  ${CMAKE_CURRENT_LIST_DIR}/imap_socket.cpp)

# Unit tests over the fixture corpus in testdata/incoming/ (no servers needed).
kiln_test(inbox_test
  SOURCES
    ${CMAKE_CURRENT_LIST_DIR}/incoming_test.cpp
    ${CMAKE_CURRENT_LIST_DIR}/classify_test.cpp
  DEPS kiln_mail)
if(TARGET inbox_test)
  target_compile_definitions(inbox_test PRIVATE KILN_TEST_SOURCE_DIR="${CMAKE_SOURCE_DIR}")
endif()

# XOAUTH2 login against a fake provider IMAP server on 127.0.0.1 (no mail stack needed).
kiln_test(imap_xoauth2_test
  SOURCES ${CMAKE_CURRENT_LIST_DIR}/imap_xoauth2_test.cpp
  DEPS kiln_mail)

# Integration tests against scripts/mailstack (Dovecot + Postfix on 127.0.0.1); fails with a
# clear message when the stack is not running.
kiln_test(imap_integration_test
  SOURCES ${CMAKE_CURRENT_LIST_DIR}/imap_integration_test.cpp
  DEPS kiln_mail)

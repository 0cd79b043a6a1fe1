// The names a TLS server certificate is valid for, as one line for error messages, so that a
// refused certificate can say what it names and what the client connected to.
//
// Thread-safety: pure functions, safe to call concurrently.
#pragma once

#include <openssl/x509.h>

#include <string>
#include <string_view>

namespace kiln::mail {

// "DNS:mail.example.com, DNS:*.example.com, IP:192.0.2.1" from the subjectAltName extension, or
// "CN=mail.example.com" when the certificate has none; "no names" when it has neither. At most
// 10 names are listed ("..." follows).
std::string CertificateNames(X509* cert);
// The same for a DER-encoded certificate; "unreadable certificate" when it does not parse.
std::string CertificateNamesFromDer(std::string_view der);

// "its names (DNS:wrong.example) do not match the host mail.example.com".
std::string NameMismatchText(std::string_view names, std::string_view host);

}  // namespace kiln::mail

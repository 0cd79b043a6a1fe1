#include "kiln/mail/tls_names.h"

#include <arpa/inet.h>
#include <openssl/x509v3.h>

namespace kiln::mail {
namespace {

constexpr int kMaxNames = 10;

std::string IpText(const ASN1_OCTET_STRING* ip) {
  char buf[INET6_ADDRSTRLEN] = {0};
  const int len = ASN1_STRING_length(ip);
  const unsigned char* data = ASN1_STRING_get0_data(ip);
  if (len == 4) return inet_ntop(AF_INET, data, buf, sizeof(buf)) ? buf : "?";
  if (len == 16) return inet_ntop(AF_INET6, data, buf, sizeof(buf)) ? buf : "?";
  return "?";
}

// Printable ASCII only: certificate strings come from the server.
std::string Clean(const unsigned char* data, int len) {
  std::string out;
  for (int i = 0; i < len && out.size() < 256; ++i) {
    const char c = static_cast<char>(data[i]);
    out.push_back(c >= 0x20 && c < 0x7f ? c : '?');
  }
  return out;
}

}  // namespace

std::string CertificateNames(X509* cert) {
  if (cert == nullptr) return "no certificate";
  std::string out;
  int listed = 0;
  auto add = [&](const std::string& name) {
    if (listed == kMaxNames) {
      out += ", ...";
    } else if (listed < kMaxNames) {
      out += (out.empty() ? "" : ", ") + name;
    }
    ++listed;
  };
  auto* sans =
      static_cast<GENERAL_NAMES*>(X509_get_ext_d2i(cert, NID_subject_alt_name, nullptr, nullptr));
  if (sans != nullptr) {
    for (int i = 0; i < sk_GENERAL_NAME_num(sans); ++i) {
      const GENERAL_NAME* gn = sk_GENERAL_NAME_value(sans, i);
      if (gn->type == GEN_DNS) {
        add("DNS:" +
            Clean(ASN1_STRING_get0_data(gn->d.dNSName), ASN1_STRING_length(gn->d.dNSName)));
      } else if (gn->type == GEN_IPADD) {
        add("IP:" + IpText(gn->d.iPAddress));
      }
    }
    GENERAL_NAMES_free(sans);
  }
  if (!out.empty()) return out;
  X509_NAME* subject = X509_get_subject_name(cert);
  const int idx = subject ? X509_NAME_get_index_by_NID(subject, NID_commonName, -1) : -1;
  if (idx >= 0) {
    const ASN1_STRING* cn = X509_NAME_ENTRY_get_data(X509_NAME_get_entry(subject, idx));
    return "CN=" + Clean(ASN1_STRING_get0_data(cn), ASN1_STRING_length(cn));
  }
  return "no names";
}

std::string CertificateNamesFromDer(std::string_view der) {
  const auto* p = reinterpret_cast<const unsigned char*>(der.data());
  X509* cert = d2i_X509(nullptr, &p, static_cast<long>(der.size()));
  if (cert == nullptr) return "unreadable certificate";
  std::string names = CertificateNames(cert);
  X509_free(cert);
  return names;
}

std::string NameMismatchText(std::string_view names, std::string_view host) {
  return "its names (" + std::string(names) + ") do not match the host " + std::string(host);
}

}  // namespace kiln::mail

#include "kiln/auth/secret_box.h"

#include <fcntl.h>
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <thread>
#include <vector>

#include "kiln/auth/crypto.h"

namespace kiln::auth {
namespace {

namespace fs = std::filesystem;

constexpr std::string_view kAad = "senders:42:smtp_secret";

SecretBox TestBox(char fill = 'k') {
  return SecretBox::FromKey(std::string(SecretBox::kKeyBytes, fill)).value();
}

TEST(SecretBoxTest, SealOpenRoundTrip) {
  SecretBox box = TestBox();
  for (std::string plaintext : {std::string(), std::string("hunter2"),
                                std::string("bin\0ary\xff", 8), std::string(100000, 'x')}) {
    auto sealed = box.Seal(plaintext, kAad);
    ASSERT_TRUE(sealed.ok()) << sealed.status().ToString();
    EXPECT_EQ(sealed->size(), plaintext.size() + SecretBox::kOverhead);
    EXPECT_EQ((*sealed)[0], '\x01');
    EXPECT_EQ(sealed->substr(1, 4), Sha256(std::string(32, 'k')).substr(0, 4));
    if (plaintext.size() > 16) {
      EXPECT_EQ(sealed->find(plaintext), std::string::npos);
    }
    auto opened = box.Open(*sealed, kAad);
    ASSERT_TRUE(opened.ok()) << opened.status().ToString();
    EXPECT_EQ(*opened, plaintext);
  }
  // A fresh nonce every time.
  EXPECT_NE(box.Seal("same", kAad).value(), box.Seal("same", kAad).value());
  EXPECT_EQ(box.KeyId(), HexEncode(Sha256(std::string(32, 'k')).substr(0, 4)));
}

TEST(SecretBoxTest, OpensABlobMadeByAnIndependentImplementation) {
  // Made with Python's `cryptography` AESGCM: key bytes 00..1f, nonce 10..1b, AAD =
  // 0x01 || SHA-256(key)[0:4] || "senders:42:smtp_secret". Pins the documented wire format.
  const std::string sealed =
      HexDecode(
          "01630dcd29101112131415161718191a1b158bf6622cbb089eb9187c6d22090820a427217c7f713c1fe9"
          "ce6de71148bfba68cefc8b9f")
          .value();
  std::string key;
  for (int i = 0; i < 32; ++i) key += static_cast<char>(i);
  SecretBox box = SecretBox::FromKey(key).value();
  auto opened = box.Open(sealed, kAad);
  ASSERT_TRUE(opened.ok()) << opened.status().ToString();
  EXPECT_EQ(*opened, "hunter2-smtp-password");
  EXPECT_EQ(box.KeyId(), "630dcd29");
}

TEST(SecretBoxTest, EveryTamperedByteIsDetected) {
  SecretBox box = TestBox();
  const std::string sealed = box.Seal("smtp password", kAad).value();
  for (size_t i = 0; i < sealed.size(); ++i) {
    for (unsigned char flip : {0x01, 0x80}) {
      std::string tampered = sealed;
      tampered[i] = static_cast<char>(tampered[i] ^ flip);
      auto r = box.Open(tampered, kAad);
      ASSERT_FALSE(r.ok()) << "byte " << i;
      EXPECT_EQ(r.status().code(), Status::Code::kFailedPrecondition);
      const std::string& msg = r.status().message();
      if (i == 0) {
        EXPECT_NE(msg.find("unknown format version"), std::string::npos) << msg;
      } else if (i < 5) {
        EXPECT_NE(msg.find("sealed with a different key"), std::string::npos) << msg;
      } else {
        EXPECT_EQ(msg, "secret is corrupt or was moved to another record");
      }
    }
  }
  for (size_t n = 0; n < sealed.size(); ++n) {
    EXPECT_FALSE(box.Open(sealed.substr(0, n), kAad).ok()) << "truncated to " << n;
  }
  EXPECT_FALSE(box.Open(sealed + "x", kAad).ok());
  EXPECT_TRUE(box.Open(sealed, kAad).ok());
}

TEST(SecretBoxTest, WrongKeyAndWrongAad) {
  SecretBox box = TestBox('a');
  SecretBox other = TestBox('b');
  const std::string sealed = box.Seal("oauth refresh token", kAad).value();

  auto wrong_key = other.Open(sealed, kAad);
  ASSERT_FALSE(wrong_key.ok());
  EXPECT_EQ(wrong_key.status().code(), Status::Code::kFailedPrecondition);
  EXPECT_NE(wrong_key.status().message().find("sealed with a different key"), std::string::npos);
  EXPECT_NE(wrong_key.status().message().find(box.KeyId()), std::string::npos);

  for (std::string_view aad :
       {"senders:43:smtp_secret", "senders:42:imap_secret", "", "senders:42:smtp_secret "}) {
    auto moved = box.Open(sealed, aad);
    ASSERT_FALSE(moved.ok()) << aad;
    EXPECT_EQ(moved.status().code(), Status::Code::kFailedPrecondition);
    EXPECT_EQ(moved.status().message(), "secret is corrupt or was moved to another record");
  }
}

TEST(SecretBoxTest, KeyConstructors) {
  EXPECT_EQ(SecretBox::FromKey("short").status().code(), Status::Code::kInvalidArgument);
  EXPECT_FALSE(SecretBox::FromKey(std::string(33, 'k')).ok());
  auto hex = SecretBox::FromHexKey(HexEncode(std::string(32, 'k')));
  ASSERT_TRUE(hex.ok());
  EXPECT_EQ(hex->KeyId(), TestBox().KeyId());
  EXPECT_FALSE(SecretBox::FromHexKey(std::string(64, 'g')).ok());
  EXPECT_FALSE(SecretBox::FromHexKey(std::string(62, 'a')).ok());
  EXPECT_EQ(SecretBox(TestBox()).KeyId(), TestBox().KeyId());  // move keeps the key
}

TEST(SecretBoxDeathTest, UseAfterMoveAborts) {
  SecretBox box = TestBox();
  SecretBox taken = std::move(box);
  EXPECT_TRUE(taken.Seal("x", kAad).ok());
  EXPECT_DEATH((void)box.Seal("x", kAad), "");  // NOLINT(bugprone-use-after-move)
}

class KeyFileTest : public ::testing::Test {
 protected:
  void SetUp() override {
    std::string tmpl = (fs::temp_directory_path() / "kiln-keyfile-XXXXXX").string();
    ASSERT_NE(::mkdtemp(tmpl.data()), nullptr);
    dir_ = tmpl;
  }
  void TearDown() override { fs::remove_all(dir_); }

  static unsigned Mode(const fs::path& p) {
    struct stat st {};
    EXPECT_EQ(::stat(p.c_str(), &st), 0);
    return st.st_mode & 07777;
  }
  static std::string Read(const fs::path& p) {
    std::ifstream in(p, std::ios::binary);
    std::stringstream ss;
    ss << in.rdbuf();
    return ss.str();
  }
  static void Write(const fs::path& p, std::string_view content, unsigned mode) {
    std::ofstream(p, std::ios::binary | std::ios::trunc) << content;
    ASSERT_EQ(::chmod(p.c_str(), mode), 0);
  }

  fs::path dir_;
};

TEST_F(KeyFileTest, CreatesA0600KeyWhateverTheUmask) {
  for (mode_t mask : {mode_t{0}, mode_t{022}, mode_t{0277}}) {
    fs::path path = dir_ / ("key-" + std::to_string(mask));
    mode_t old = ::umask(mask);
    auto box = SecretBox::LoadOrCreateKeyFile(path.string());
    ::umask(old);
    ASSERT_TRUE(box.ok()) << box.status().ToString();
    EXPECT_EQ(Mode(path), 0600u) << "umask " << mask;
    std::string content = Read(path);
    ASSERT_EQ(content.size(), 65u);
    EXPECT_EQ(content.back(), '\n');
    auto raw = HexDecode(content.substr(0, 64));
    ASSERT_TRUE(raw.ok());
    EXPECT_EQ(box->KeyId(), HexEncode(Sha256(*raw).substr(0, 4)));
  }
  // No temporary files left behind.
  size_t files = 0;
  for (const auto& entry : fs::directory_iterator(dir_)) {
    EXPECT_EQ(entry.path().filename().string().find(".tmp"), std::string::npos);
    ++files;
  }
  EXPECT_EQ(files, 3u);
}

TEST_F(KeyFileTest, ReloadsTheSameKey) {
  fs::path path = dir_ / "secret.key";
  auto first = SecretBox::LoadOrCreateKeyFile(path.string());
  ASSERT_TRUE(first.ok());
  std::string sealed = first->Seal("imap password", kAad).value();
  auto second = SecretBox::LoadOrCreateKeyFile(path.string());
  ASSERT_TRUE(second.ok()) << second.status().ToString();
  EXPECT_EQ(second->KeyId(), first->KeyId());
  EXPECT_EQ(second->Open(sealed, kAad).value(), "imap password");
  // Keys differ between files.
  auto other = SecretBox::LoadOrCreateKeyFile((dir_ / "other.key").string());
  ASSERT_TRUE(other.ok());
  EXPECT_NE(other->KeyId(), first->KeyId());
}

TEST_F(KeyFileTest, AcceptsAHandWrittenKey) {
  fs::path path = dir_ / "k";
  Write(path, std::string(64, 'A') + "\n", 0400);
  auto box = SecretBox::LoadOrCreateKeyFile(path.string());
  ASSERT_TRUE(box.ok()) << box.status().ToString();
  EXPECT_EQ(box->KeyId(), HexEncode(Sha256(std::string(32, '\xaa')).substr(0, 4)));
  Write(path, std::string(64, 'a'), 0600);  // no newline
  EXPECT_TRUE(SecretBox::LoadOrCreateKeyFile(path.string()).ok());
  Write(path, std::string(64, 'a') + "\r\n", 0600);
  EXPECT_TRUE(SecretBox::LoadOrCreateKeyFile(path.string()).ok());
}

TEST_F(KeyFileTest, RefusesGroupOrWorldAccess) {
  fs::path path = dir_ / "secret.key";
  ASSERT_TRUE(SecretBox::LoadOrCreateKeyFile(path.string()).ok());
  for (unsigned mode : {0644u, 0640u, 0604u, 0620u, 0666u}) {
    ASSERT_EQ(::chmod(path.c_str(), mode), 0);
    auto r = SecretBox::LoadOrCreateKeyFile(path.string());
    ASSERT_FALSE(r.ok()) << std::oct << mode;
    EXPECT_EQ(r.status().code(), Status::Code::kFailedPrecondition);
    EXPECT_NE(r.status().message().find(path.string()), std::string::npos);
    EXPECT_NE(r.status().message().find("chmod 600"), std::string::npos) << r.status().message();
  }
  ASSERT_EQ(::chmod(path.c_str(), 0644), 0);
  EXPECT_NE(SecretBox::LoadOrCreateKeyFile(path.string()).status().message().find("mode 0644"),
            std::string::npos);
}

TEST_F(KeyFileTest, RefusesWrongLengthOrContent) {
  fs::path path = dir_ / "secret.key";
  for (std::string content :
       {std::string(), std::string("\n"), std::string(62, 'a') + "\n", std::string(66, 'a') + "\n",
        std::string(64, 'g') + "\n", std::string(64, 'a') + "\n\n", " " + std::string(64, 'a'),
        std::string(32, 'k'), std::string(10000, 'a')}) {
    Write(path, content, 0600);
    auto r = SecretBox::LoadOrCreateKeyFile(path.string());
    ASSERT_FALSE(r.ok()) << content.size();
    EXPECT_EQ(r.status().code(), Status::Code::kFailedPrecondition);
    EXPECT_NE(r.status().message().find("does not hold a 32-byte key"), std::string::npos)
        << r.status().message();
  }
}

TEST_F(KeyFileTest, OtherFailuresNameThePath) {
  auto in_missing_dir = SecretBox::LoadOrCreateKeyFile((dir_ / "nope" / "key").string());
  ASSERT_FALSE(in_missing_dir.ok());
  EXPECT_NE(in_missing_dir.status().message().find("nope/key"), std::string::npos);
  fs::create_directory(dir_ / "adir");
  ASSERT_EQ(::chmod((dir_ / "adir").c_str(), 0700), 0);
  auto a_directory = SecretBox::LoadOrCreateKeyFile((dir_ / "adir").string());
  ASSERT_FALSE(a_directory.ok());
  EXPECT_NE(a_directory.status().message().find("not a regular file"), std::string::npos);
  EXPECT_FALSE(SecretBox::LoadOrCreateKeyFile("").ok());
}

TEST_F(KeyFileTest, ConcurrentFirstStartsAgreeOnOneKey) {
  fs::path path = dir_ / "race.key";
  constexpr int kThreads = 8;
  std::vector<std::string> ids(kThreads);
  std::vector<std::thread> threads;
  for (int i = 0; i < kThreads; ++i) {
    threads.emplace_back([&, i] {
      auto box = SecretBox::LoadOrCreateKeyFile(path.string());
      ids[i] = box.ok() ? box->KeyId() : box.status().ToString();
    });
  }
  for (auto& t : threads) t.join();
  for (int i = 1; i < kThreads; ++i) EXPECT_EQ(ids[i], ids[0]);
  EXPECT_EQ(ids[0].size(), 8u) << ids[0];
}

}  // namespace
}  // namespace kiln::auth

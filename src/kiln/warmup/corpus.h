// The warm-up content corpus: templates (Kiln's template language with spintax, template.h) and
// word lists that content.cpp combines into natural business small talk. Embedded in the binary.
//
// Variables a template may use: to_first, from_first (first names, possibly empty), topic,
// weekday, place, thing. Texts are plain: no links, no images, no HTML; paragraphs are separated
// by one empty line.
//
// Thread-safety: immutable data.
#pragma once

#include <span>
#include <string_view>

namespace kiln::warmup::corpus {

extern const std::span<const std::string_view> kSubjects;   // one line each
extern const std::span<const std::string_view> kGreetings;  // the first line of a mail
extern const std::span<const std::string_view> kBodies;     // first mails of a thread
extern const std::span<const std::string_view> kReplies;    // answers, short to long
extern const std::span<const std::string_view> kSignOffs;   // closing line(s)
extern const std::span<const std::string_view> kRefLabels;  // label before the tag ("Ref:")
extern const std::span<const std::string_view> kTopics;     // noun phrases: "the Q3 budget"
extern const std::span<const std::string_view> kPlaces;     // "the Lisbon office"
extern const std::span<const std::string_view> kThings;     // "the slide deck"
extern const std::span<const std::string_view> kWeekdays;   // "Monday" … "Friday"

}  // namespace kiln::warmup::corpus

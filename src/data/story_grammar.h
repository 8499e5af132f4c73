// Short children's stories from a small procedural grammar: the text `gander demo` trains its
// teacher on, so the demo needs no corpus and no download. A story is a function of its number
// alone (the same text on every machine), ~100-170 words: an opening that names a hero, a
// friend, a place and an object, then one of several plots that refer back to them (names,
// pronouns, the object, the friend's kind), then an ending. The back-references are what a
// model must carry across the story: softmax attention looks them up, a recurrent student has
// to hold them in its state.
#pragma once
#include <cstdint>
#include <string>

namespace gander::data {

std::string grammar_story(uint64_t number);

}  // namespace gander::data

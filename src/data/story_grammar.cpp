#include "data/story_grammar.h"

#include <array>
#include <span>
#include <string_view>
#include <vector>

#include "core/rng.h"

namespace gander::data {

namespace {

struct Person {
  std::string_view name;
  bool girl;
};
constexpr Person kNames[] = {{"Lily", true}, {"Tom", false}, {"Mia", true},  {"Ben", false}, {"Sue", true},
                             {"Max", false}, {"Anna", true}, {"Sam", false}, {"Lucy", true}, {"Jack", false},
                             {"Emma", true}, {"Tim", false}, {"Zoe", true},  {"Leo", false}, {"Ella", true},
                             {"Finn", false}};
constexpr std::string_view kKinds[] = {"cat", "dog", "bunny", "bird", "fox", "bear", "duck", "frog", "mouse", "owl"};
constexpr std::string_view kAdjectives[] = {"little", "happy", "shy", "brave", "kind", "curious", "silly", "clever"};
constexpr std::string_view kPlaces[] = {"forest", "garden", "park", "farm", "village", "meadow", "beach", "hill"};
constexpr std::string_view kFamily[] = {"mom", "dad", "grandma", "grandpa", "sister", "brother"};
constexpr std::string_view kLikes[] = {"sing songs", "draw pictures", "read books", "run in the grass",
                                       "look at the stars", "jump in puddles", "play games", "pick flowers"};
constexpr std::string_view kObjects[] = {"ball", "kite", "hat", "book", "box", "drum", "scarf", "boat", "bell", "cup"};
constexpr std::string_view kColors[] = {"red", "blue", "green", "yellow", "shiny", "soft", "old", "big"};
constexpr std::string_view kHiding[] = {"under a big leaf", "behind a tree", "next to the pond", "in a bush",
                                        "under the bench", "near a rock"};
constexpr std::string_view kFood[] = {"apple", "cake", "cookie", "pie", "pear", "carrot", "sandwich", "muffin"};
constexpr std::string_view kBuild[] = {"sand castle", "tree house", "snow man", "tower of blocks", "little boat"};
constexpr std::string_view kFears[] = {"the dark", "the thunder", "the big waves", "the tall slide", "the loud wind"};
constexpr std::string_view kFeelings[] = {"happy", "glad", "proud", "excited"};

class Story {
 public:
  explicit Story(uint64_t number) : rng_(number * 0x2545f4914f6cdd1dull + 17) {}

  std::string write() {
    hero_ = pick(kNames);
    do friend_ = pick(kNames);
    while (friend_.name == hero_.name);
    hero_kind_ = pick(kKinds);
    friend_kind_ = pick(kKinds);
    place_ = pick(kPlaces);
    opening();
    switch (rng_.below(4)) {
      case 0: lost_object(); break;
      case 1: sharing(); break;
      case 2: building(); break;
      default: fear(); break;
    }
    ending();
    return std::move(text_);
  }

 private:
  template <class T, size_t N>
  const T& pick(const T (&options)[N]) {
    return options[rng_.below(N)];
  }
  bool chance(int percent) { return rng_.below(100) < uint64_t(percent); }

  static bool punctuation(char c) { return c == '.' || c == ',' || c == '!' || c == '?'; }
  // Appends words: a space before them unless they open with punctuation.
  void say(std::string_view words) {
    if (!text_.empty() && !punctuation(words[0])) text_ += ' ';
    text_ += words;
  }
  template <class... Words>
  void line(const Words&... words) {
    (say(words), ...);
  }
  // Speech: ` "Words!"` (the opening quote after a space, the closing one after the punctuation).
  template <class... Words>
  void quote(const Words&... words) {
    text_ += " \"";
    bool first = true;
    for (std::string_view w : {std::string_view(words)...}) {
      if (!first && !punctuation(w[0])) text_ += ' ';
      text_ += w;
      first = false;
    }
    text_ += '"';
  }

  std::string_view he(const Person& p) const { return p.girl ? "she" : "he"; }
  std::string_view He(const Person& p) const { return p.girl ? "She" : "He"; }
  std::string_view his(const Person& p) const { return p.girl ? "her" : "his"; }
  std::string_view him(const Person& p) const { return p.girl ? "her" : "him"; }

  void opening() {
    const std::string_view adjective = pick(kAdjectives);
    switch (rng_.below(3)) {
      case 0: line("Once upon a time, there was a", adjective, hero_kind_, "named", hero_.name, "."); break;
      case 1: line("There once was a", adjective, hero_kind_, "called", hero_.name, "."); break;
      default: line("Once upon a time, in a", place_, ", there lived a", adjective, hero_kind_, "named", hero_.name, ".");
    }
    line(hero_.name, "lived near the", place_, "with", his(hero_), pick(kFamily), ".");
    line(He(hero_), "loved to", pick(kLikes), ".");
    line(hero_.name, "had a friend,", friend_.name, "the", friend_kind_, ".");
  }

  void lost_object() {
    const std::string_view object = pick(kObjects), color = pick(kColors), hiding = pick(kHiding);
    line("One day,", hero_.name, "could not find", his(hero_), color, object, ".");
    line(He(hero_), "looked everywhere, but the", object, "was gone.", hero_.name, "felt very sad.");
    line("Then", friend_.name, "the", friend_kind_, "came by and said,");
    quote("Do not be sad,", hero_.name, ". I will help you find your", object, ".");
    line("They looked all over the", place_, ".");
    if (chance(50)) line("They looked in the grass and by the road, but the", object, "was not there.");
    line("At last,", friend_.name, "saw something", color, hiding, ". It was the", object, "!");
    line(hero_.name, "hugged", friend_.name, "and said,");
    quote("Thank you,", friend_.name, "! You are a good friend.");
  }

  void sharing() {
    const std::string_view food = pick(kFood);
    line("One day,", hero_.name, "had a big", food, "for lunch.");
    line(He(hero_), "sat down in the", place_, "to eat it.");
    line("Then", hero_.name, "saw", friend_.name, "the", friend_kind_, ".", friend_.name, "looked hungry.");
    quote(friend_.name, ", do you want some of my", food, "?");
    line("asked", hero_.name, ".");
    quote("Yes, please!");
    line("said", friend_.name, ".", hero_.name, "gave", friend_.name, "half of the", food, ".");
    line("They ate it together, and it was very good.");
    line(friend_.name, "said,");
    quote("Thank you,", hero_.name, ". Sharing makes me", pick(kFeelings), ".");
  }

  void building() {
    const std::string_view thing = pick(kBuild);
    line("One day,", hero_.name, "wanted to make a", thing, ".");
    line(He(hero_), "worked hard, but the", thing, "fell down.", hero_.name, "was sad.");
    line(friend_.name, "the", friend_kind_, "saw", him(hero_), "and said,");
    quote("Let us make it together!");
    line(hero_.name, "and", friend_.name, "worked side by side.");
    if (chance(50)) line(friend_.name, "held it still while", hero_.name, "made it tall.");
    line("Soon the", thing, "stood tall and strong.");
    line(hero_.name, "was so", pick(kFeelings), ". The", thing, "was the best in the", place_, ".");
  }

  void fear() {
    const std::string_view fear = pick(kFears);
    line("But", hero_.name, "was afraid of", fear, ".");
    line("One evening,", hero_.name, "had to go home across the", place_, ".");
    line(He(hero_), "did not want to go, because of", fear, ".");
    line(friend_.name, "the", friend_kind_, "took", his(hero_), "hand and said,");
    quote("I will go with you,", hero_.name, ". You are braver than you think.");
    line("They walked together, step by step.");
    line("When they got home,", hero_.name, "smiled.");
    quote("I am not afraid of", fear, "any more!");
    line(he(hero_), "said.");
  }

  void ending() {
    switch (rng_.below(3)) {
      case 0: line("From that day on,", hero_.name, "and", friend_.name, "were best friends."); break;
      case 1: line("They played in the", place_, "until the sun went down."); break;
      default: line("That night,", hero_.name, "went to bed happy, thinking of", friend_.name, "the", friend_kind_, ".");
    }
  }

  Rng rng_;
  std::string text_;
  Person hero_{}, friend_{};
  std::string_view hero_kind_, friend_kind_, place_;
};

}  // namespace

std::string grammar_story(uint64_t number) { return Story(number).write(); }

}  // namespace gander::data

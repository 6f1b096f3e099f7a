#include "engine/letters.h"

#include <gtest/gtest.h>

#include <cmath>

using qaudit::engine::answer_letter_of_piece;

TEST(AnswerLetter, CountsTheLetterAloneOrWithPunctuation) {
  EXPECT_EQ(answer_letter_of_piece("A", 3), 0);
  EXPECT_EQ(answer_letter_of_piece(" A", 3), 0);
  EXPECT_EQ(answer_letter_of_piece("  B", 3), 1);
  EXPECT_EQ(answer_letter_of_piece("C)", 3), 2);
  EXPECT_EQ(answer_letter_of_piece("(A", 3), 0);
  EXPECT_EQ(answer_letter_of_piece(" (B)", 3), 1);
  EXPECT_EQ(answer_letter_of_piece("A.", 3), 0);
  EXPECT_EQ(answer_letter_of_piece("\nC", 3), 2);
  EXPECT_EQ(answer_letter_of_piece("B):", 3), 1);
}

TEST(AnswerLetter, RejectsWordsOtherLettersAndLowercase) {
  EXPECT_EQ(answer_letter_of_piece("Answer", 3), -1);
  EXPECT_EQ(answer_letter_of_piece(" As", 3), -1);
  EXPECT_EQ(answer_letter_of_piece("Ab", 3), -1);
  EXPECT_EQ(answer_letter_of_piece("D", 3), -1);
  EXPECT_EQ(answer_letter_of_piece("a", 3), -1);
  EXPECT_EQ(answer_letter_of_piece("", 3), -1);
  EXPECT_EQ(answer_letter_of_piece(" ", 3), -1);
  EXPECT_EQ(answer_letter_of_piece("(", 3), -1);
  EXPECT_EQ(answer_letter_of_piece("A B", 3), -1);
  EXPECT_EQ(answer_letter_of_piece("((A", 3), -1);
}

TEST(AnswerLetter, HonoursTheNumberOfOptions) {
  EXPECT_EQ(answer_letter_of_piece("C", 2), -1);
  EXPECT_EQ(answer_letter_of_piece("L", 12), 11);
}

TEST(LetterMass, SoftmaxAtTemperatureOnAHandWorkedVocabulary) {
  // logits: A=ln 2, B=0, C=0, other=ln 4 -> at T=1: 2/8, 1/8, 1/8, invalid 4/8
  float logits[4] = {float(std::log(2.0)), 0.f, 0.f, float(std::log(4.0))};
  std::vector<std::vector<int32_t>> sets = {{0}, {1}, {2}};
  auto m = qaudit::engine::letter_mass(logits, 4, sets, 1.0);
  EXPECT_NEAR(m.p[0], 0.25, 1e-7);
  EXPECT_NEAR(m.p[1], 0.125, 1e-7);
  EXPECT_NEAR(m.invalid, 0.5, 1e-7);
  // T = 0.5 squares the unnormalised weights: 4, 1, 1, 16 over 22
  auto h = qaudit::engine::letter_mass(logits, 4, sets, 0.5);
  EXPECT_NEAR(h.p[0], 4.0 / 22, 1e-6);
  EXPECT_NEAR(h.invalid, 16.0 / 22, 1e-6);
}

"""Multiple-choice answers read as a careful human grader would: a table of realistic and adversarial outputs.

Every expected letter below was decided by reading the output as a person grading it, before
running the extractor. ``None`` means a careful grader would not credit any letter (ambiguous,
rejected, a question, or no answer): the extractor must never return a wrong letter.
"""

from __future__ import annotations

import pytest

from videossr.evaluate.choices import extract_letter, option_letters, parse_options, truth_letter

QUESTION = ("What is the man doing?\nA. A man is riding a bike\nB. A man is talking on the phone\n"
            "C. A woman is cooking\nD. Nobody is in the scene")
OPTIONS = parse_options(QUESTION)

CASES = [
    # plain letters and their decorations
    ("B", "B"), ("B.", "B"), ("(B)", "B"), ("[B]", "B"), ("B)", "B"), ("  B  ", "B"), ("B:", "B"),
    ("**B**", "B"), ("*B*", "B"), ("`B`", "B"), ("**B.**", "B"), ("\\boxed{B}", "B"), ("<answer>B</answer>", "B"),
    ("<think>Maybe A? No.</think>B", "B"), ("Option B", "B"), ("Answer: B", "B"), ("answer: b", "B"),
    ("b", "B"), ("b.", "B"), ("(b)", "B"), ("a", "A"),
    # a letter and its text
    ("B. A man is talking on the phone", "B"), ("B - A man is talking on the phone", "B"), ("B) talking on the phone", "B"),
    ("(B) A man is talking on the phone.", "B"), ("**B. A man is talking on the phone**", "B"), ("B: the phone", "B"),
    ("B\n\nThe man holds a phone to his ear.", "B"), ("B, because he holds a phone.", "B"), ("B because he holds a phone.", "B"),
    ("B (the man is on the phone)", "B"), ("The correct one is B.", "B"),
    ("A: a bike. B: a phone. The correct one is B.", None),  # opens with A, then names B: a grader could not be sure
    ("Answer: B\nReason: option A shows a bike, which is not in the video.", "B"), ("The answer could be B.", "B"),
    ("(A) and (B) are both plausible.", None), ("It could be A or B.", None), ("B is incorrect, and so is C. The answer is A.", "A"),
    ("Therefore, it is not B but A.", "A"),
    ("A. a bike\nB. a phone\nC. cooking\nD. nobody\nThe answer is B.", "B"), ("A. a bike\nB. a phone\nC. cooking\nD. nobody", None),
    ("(A) a bike\n(B) a phone\n\nB", "B"), ("Between B and D, B is more likely.", "B"), ("The answer is B not C", "B"),
    ("Let's analyze each option:\nA. A man is riding a bike - Incorrect.\nB. A man is talking on the phone - Correct.\nC. A woman is cooking - Incorrect.", "B"),
    ("Let's analyze each option:\nA. A man is riding a bike\nB. A man is talking on the phone\nC. A woman is cooking", None),
    ("Each option:\nA. bike - Incorrect.\nB. phone - Correct.\nC. cooking - Correct.", None),
    ("Option B: A man is talking on the phone.", "B"), ("B. On the phone.\n\nExplanation: option A (riding a bike) does not occur.", "B"),
    ("**Answer:**\nB", "B"), ("b. a man is talking on the phone", "B"), ("b) A man is talking on the phone.", "B"), ("a. a man is talking on the phone", None), ("Option A: no\nOption B: yes\nAnswer: B", "B"), ("A: incorrect\nB: correct\nC: incorrect", "B"),
    ("Answer: A man is talking on the phone.", "B"), ("The answer: A man is talking on the phone (B).", "B"), ("A: correct\nB: correct", None),
    ("B) A man is talking on the phone.\nC) A woman is cooking.", None), ("It's definitely not A, C or D, so B.", "B"), ("I see A man on a phone.", None), ("The man is on the phone, not on a bike as in A.", None),
    # sentences naming the answer
    ("The answer is B.", "B"), ("The answer is (B).", "B"), ("The correct answer is B", "B"), ("The correct option is B.", "B"),
    ("Answer: (B) A man is talking on the phone", "B"), ("The answer is: **B**", "B"), ("Final answer: B", "B"),
    ("B is correct.", "B"), ("B is the correct answer.", "B"), ("Option B is correct.", "B"), ("B is the best answer.", "B"),
    ("It is B.", "B"), ("It's B.", "B"), ("It’s B", "B"), ("I'd go with B.", "B"), ("I’d go with B.", "B"), ("I choose B.", "B"),
    ("I think the answer is B.", "B"), ("I think it's B.", "B"), ("The man holds a phone to his ear, so B.", "B"),
    ("He is clearly on a call. Therefore, the answer is B.", "B"), ("Thus, B.", "B"), ("The answer is probably B.", "B"),
    ("The answer is B. A is incorrect because nobody rides a bike.", "B"),
    ("The answer is B, not A.", "B"), ("The answer is not A, it's B.", "B"), ("A is wrong, C is wrong, so B.", "B"),
    ("Options A and C are wrong; the answer is D.", "D"), ("A and C are both wrong, so the answer is B.", "B"), ("Neither A nor C fits. The answer is B.", "B"),
    ("I don't think it's A. The answer is B.", "B"), ("The answer is B because option C shows a woman.", "B"),
    ("Based on the video, the man holds a phone to his ear.\n\n**B. A man is talking on the phone**", "B"),
    ("From the video, A is not correct; C is not correct; D is not correct. Hence B.", "B"),
    ("Although option A mentions a man, B is the right choice.", "B"), ("It's A, not B.", "A"), ("B is incorrect; the answer is A.", "A"),
    ("Looking at the video, the man is on the phone (B).", "B"), ("This matches option B.", "B"),
    ("The answer is B. Options A, C and D don't match.", "B"), ("Not A, maybe B.", "B"), ("It is not A but B.", "B"),
    # full-width and Chinese forms
    ("Ｂ", "B"), ("（Ｂ）", "B"), ("B。", "B"), ("答案是B", "B"), ("答案：B", "B"), ("答案为 B。", "B"), ("选B", "B"),
    ("我选B", "B"), ("正确答案是B", "B"), ("B选项正确", "B"), ("所以选B。", "B"), ("排除A和C，答案是B", "B"),
    # option text without a letter
    ("A man is talking on the phone", "B"), ("A man is talking on the phone.", "B"), ("a man is talking on the phone", "B"),
    ("The answer is A man is talking on the phone.", "B"), ("Nobody is in the scene.", "D"),
    # "A" and "I" as words, not letters
    ("A man is riding a bike.", "A"),  # that is option A's text
    ("A woman is cooking", "C"),
    ("I think so.", None), ("A man.", None), ("I don't know.", None), ("A bike.", None),
    # ambiguous or rejected: never a letter
    ("B and C", None), ("A or B", None), ("The answer is B or C.", None), ("Either A or B.", None), ("B/C", None),
    ("Both B and D are plausible.", None), ("Not A.", None), ("It is not B.", None), ("The answer is not A.", None),
    ("A is incorrect.", None), ("A. B. C. D.", None), ("A, B and C are all wrong", None), ("The answer is A. No wait, it's B.", None),
    ("B? Or maybe C.", None), ("B?", None), ("Is it B?", None), ("The answer is E.", None), ("E", None), ("E. none of these", None),
    ("Option A describes a bike, which is not in the video.", None), ("Option A shows a bike.", None),
    ("B. A woman is cooking", None),  # the letter and the text disagree
    ("The answer is B. Actually, C.", None), ("CD", None), ("42", None), ("", None), ("   ", None), ("I cannot tell.", None),
    ("The man is holding something.", None), ("Rule out A and B.", None), ("not a", None), ("The answer is a dog.", None),
    ("<think>B</think>", None), ("A is correct. B is correct.", None), ("It cannot be B.", None),
]


def test_the_table_is_large_and_adversarial():
    assert len(CASES) >= 60 and sum(expected is None for _, expected in CASES) >= 30
    assert len({text for text, _ in CASES}) == len(CASES)  # no case twice


@pytest.mark.parametrize("text, expected", CASES, ids=[repr(t)[:40] for t, _ in CASES])
def test_read_as_a_careful_grader(text, expected):
    assert extract_letter(text, OPTIONS) == expected


@pytest.mark.parametrize("text, expected", [(t, e) for t, e in CASES if e is not None])
def test_never_a_wrong_letter_with_letters_only(text, expected):
    # without the option texts the reader may read less, never something else
    assert extract_letter(text, "ABCD") in (expected, None)


def test_option_lines_in_their_forms():
    assert parse_options("Q?\n(A) x\n(B) y") == {"A": "x", "B": "y"}
    assert parse_options("Q?\nA) x\nB) y\nC) z") == {"A": "x", "B": "y", "C": "z"}
    assert parse_options("Q: what?\nA. x\nB. y") == {"A": "x", "B": "y"}  # "Q:" is not an option
    assert parse_options("Ｑ?\nＡ．x\nＢ．y") == {"A": "x", "B": "y"}
    assert option_letters("no options listed") == "ABCDEFGHIJKLMNOPQRSTUVWXYZ"
    assert extract_letter("D", parse_options("Which?\nA. x\nB. y\nC. z")) is None


@pytest.mark.parametrize("truth, letter", [
    ("B", "B"), ("b", "B"), ("(B)", "B"), ("B.", "B"), ("B. A man is talking on the phone", "B"), ("B) talking", "B"), ("Ｂ", "B"),
    ("A man is talking on the phone", "B"), ("E", None), ("yes", None), ("", None), ("B or C", None),
])
def test_ground_truth_letters(truth, letter):
    assert truth_letter(truth, OPTIONS) == letter


TEMPLATES = [
    "The answer is {X}. {Y} is incorrect.", "{Y} is wrong, so {X}.", "Not {Y}, it's {X}.", "I'd go with {X}, not {Y}.",
    "{X}. Option {Y} does not match the video.", "Option {Y} is ruled out; the answer is {X}.", "The answer is ({X}); ({Y}) is a distractor.",
    "**{X}**\n\n{Y} can be eliminated.", "答案是{X}，{Y}错误。", "{Y} and the others are wrong. The correct answer is {X}.",
    "Looking at the video, {Y} cannot be right, so the answer must be {X}.", "<think>Maybe {Y}? No, {Y} is wrong.</think>{X}",
]


@pytest.mark.parametrize("template", TEMPLATES)
def test_a_chosen_letter_beside_a_rejected_one_is_never_swapped(template):
    # every ordered pair of options: the rejected letter is never returned, and the chosen one is read
    for x in "ABCD":
        for y in "ABCD":
            if x != y:
                assert extract_letter(template.format(X=x, Y=y), OPTIONS) == x, (template, x, y)

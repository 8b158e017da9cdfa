"""Multiple-choice answers read as a careful human grader reads them, never guessing a letter.

:func:`parse_options` reads a question's options (``A. text`` / ``(B) text`` / ``C) text`` /
``D: text`` lines); :func:`extract_letter` reads the option a model's output chose, or ``None``.

The answer region is located first (reasoning in ``<think>`` dropped, ``<answer>`` / ``\\boxed``
preferred: :func:`videossr.rewards.parsing.locate_answer`), then normalised: full-width forms
become ASCII (``Ｂ`` -> ``B``, ``（B）`` -> ``(B)``, ``答案：B`` -> ``答案:B``) and markdown
emphasis is dropped (``**B**`` -> ``B``). Then, in order:

1. **The whole answer is a letter**: ``B``, ``b``, ``(B)``, ``[B]``, ``B.``, ``B。``, ``Option B``,
   ``Answer: b``.
2. **Letters named as the answer**: each capital option letter standing alone is a mention
   (``A``/``I`` followed by a lower-case word are the article / the pronoun, not mentions:
   "A man is ...", "I think ..."). A mention is *chosen* when an answer phrase comes right before
   it ("the answer is", "answer:", "the correct option is", "I'd go with", "I choose", "it is",
   "it's", "so", "therefore", "答案是", "选") or a verdict right after it ("B is correct", "B is
   the best answer", "B正确"); a lower-case letter counts only right after an answer phrase and
   before punctuation or the end ("the answer is b."). A mention is *rejected* by a negation
   before it ("not A", "rule out A", "unlike A", "排除A") or after it ("A is incorrect", "A and C
   are wrong", "A错误"), or by a ``not`` / ``n't`` earlier in its clause ("I don't think it's A").
   Exactly one chosen letter, never also rejected, is the answer ("The answer is B. A is
   incorrect ..." -> B).
3. **Otherwise, position**: a letter that opens the answer (``B. text``, ``B - text``, ``(B)
   text``, ``B\\n...``), opens its last line (``...\\n\\n**B. text**``) or closes it (``..., so
   (B).``, ``... maybe B``) is the answer when it is the only option letter the answer mentions
   without rejecting it.
4. **Otherwise, option text**: an answer that is exactly one option's text (ignoring case,
   spaces, final punctuation, and an opening "The answer is") is that option's letter.

Never a letter from an ambiguous answer: a chosen letter joined to another one ("B or C", "B and
C", "B/C"), two different chosen letters, a letter both chosen and rejected, a letter that is not
an option, an opening letter whose text is another option's text, or a question ("B?") are all
unparsed (``None``). An unparsed answer is wrong and counted as unparsed.

:func:`truth_letter` reads a ground truth (``"B"``, ``"b"``, ``"(B)"``, ``"B. text"``, or an
option's text) into its letter, or ``None`` when it names none.
"""

from __future__ import annotations

import bisect
import re
import unicodedata

from videossr.rewards.parsing import locate_answer

ALL_LETTERS = "ABCDEFGHIJKLMNOPQRSTUVWXYZ"
CONTEXT = 80  # characters read on each side of a letter
MAX_MENTIONS = 64  # an answer mentioning more option letters than this is unparsed

_OPTION_LINE = re.compile(r"^[ \t]*(?:\(([A-Z])\)|\[([A-Z])\]|([A-Z])[.):、])[ \t]*(\S[^\n]*?)[ \t]*$", re.MULTILINE)
_WHOLE = re.compile(r"(?:(?:the\s+)?(?:final\s+|correct\s+|best\s+)?(?:answer|option|choice)\s*(?:is\s*)?:?\s*|答案\s*(?:是|为)?\s*:?\s*|选项?\s*)?"
                    r"(?:\(([A-Za-z])\)|\[([A-Za-z])\]|([A-Za-z]))(?:\s*选项)?", re.IGNORECASE)
_MENTION = re.compile(r"(?<![A-Za-z0-9'’-])([A-Z])(?![A-Za-z0-9])(?!['’-][A-Za-z])")
_LOWER_MENTION = re.compile(r"(?<![A-Za-z0-9'’-])(?:\(([a-z])\)|([a-z]))(?=\s*(?:[.)\]。,;!:]|$))")
_ADVERB = r"(?:(?:probably|likely|most\s+likely|definitely|clearly|certainly|surely|maybe|perhaps|possibly)\s*,?\s*)?"
_CHOSEN_BEFORE = re.compile(
    r"(?:\b(?:answer|choice|option|selection|letter|(?:correct|right|best)\s+one)s?\s*(?:is|would\s+be|should\s+be|must\s+be|will\s+be|has\s+to\s+be|seems\s+to\s+be|appears\s+to\s+be|:|=)"
    r"|\b(?:i|we)\s*(?:'d|'ll|would|will|should)?\s*(?:say|choose|pick|select|go\s+with|opt\s+for|answer|think|believe|guess)"
    r"|\b(?:choose|chose|pick|picked|select|selected|go\s+with|going\s+with|opt\s+for)"
    r"|\b(?:it|that|this)\s*(?:'s|is|must\s+be|should\s+be|would\s+be|has\s+to\s+be|seems\s+to\s+be|appears\s+to\s+be)"
    r"|\b(?:so|thus|hence|therefore|consequently)\s*,?"
    r"|\b(?:actually|instead|wait)\s*,?"
    r"|答案\s*(?:应该|应)?\s*(?:是|为)?\s*:?|应选|故选|我选|选择?|所以|因此)"
    r"\s*" + _ADVERB + r"(?:option|choice|answer|letter|选项)?\s*[:(\[]?\s*$", re.IGNORECASE)
_CHOSEN_AFTER = re.compile(
    r"\s*[)\]]?\s*(?:选项)?\s*(?:(?:is|seems|appears|looks|would\s+be|should\s+be|must\s+be)\s+(?:to\s+be\s+)?)?(?:the\s+)?"
    r"(?:correct\b|right\b|true\b|accurate\b|best\b|closest\b|most\s+(?:likely|accurate|appropriate|suitable|plausible|reasonable|fitting)\b"
    r"|more\s+(?:likely|accurate|appropriate)\b|answer\b|one\b(?!\s+of)|是?正确|是对的|对)", re.IGNORECASE)
_NEGATED_BEFORE = re.compile(
    r"(?:\bnot|n't|\bnever|\bno|\bnor|\bneither|\bruled?\s+out|\bruling\s+out|\beliminat\w*|\bexclud\w*|\bexcept(?:\s+for)?|\brather\s+than"
    r"|\binstead\s+of|\bunlike|\bother\s+than|\bbesides|\bapart\s+from|\bagainst|排除|不是|不选|而非|并非)"
    r"[ \t]*(?:option|choice|answer|选项)?[ \t]*[:(\[]?[ \t]*$", re.IGNORECASE)
_LETTER_LIST = r"(?:\s*[)\]]?\s*(?:,|and|or|&|/|、|和|或)\s*(?:(?:option\s*)?[(\[]?[A-Z](?![A-Za-z0-9])|(?:all\s+)?the\s+(?:others|rest|other\s+options)))*"
_NO_WORDS = (r"(?:incorrect|wrong|false|inaccurate|unlikely|impossible|irrelevant|ruled\s+out|eliminated|excluded|can\s+be\s+(?:ruled\s+out|eliminated|excluded)"
             r"|isn't|aren't|wasn't|cannot|can't|does\s+not|doesn't|do\s+not|don't|fails?\b|是?错误?的?|不对|不正确)")
_NEGATION_AFTER = (r"\s*[)\]]?\s*(?:\([^()\n]{0,60}\)\s*)?(?:选项)?\s*(?:(?:is|are|was|were|seems|seem|appears|appear|looks|look)\s+"
                   r"(?:(?:also|clearly|definitely|both|all)\s+)*(?:not\b|" + _NO_WORDS + r")|(?:(?:also|clearly|definitely|both|all)\s+)*" + _NO_WORDS + r")")
_NEGATED_AFTER = re.compile(_NEGATION_AFTER, re.IGNORECASE)  # "A is wrong"
_LIST_NEGATED_AFTER = re.compile(_LETTER_LIST + _NEGATION_AFTER, re.IGNORECASE)  # "A, C and D are wrong"
_LINE_VERDICT = re.compile(r"[-–—:(,]\s*(?:(correct|right|true|yes|matches)|(incorrect|wrong|false|no|does\s+not\s+match))\b[\s).!]*$", re.IGNORECASE)
_JOINED_AFTER = re.compile(r"\s*[)\]]?\s*(?:,|or|and|&|/|、|和|或者?|与)\s*(?:option\s*)?[(\[]?([A-Z])(?![A-Za-z0-9])", re.IGNORECASE)
_JOINED_BEFORE = re.compile(r"(?<![A-Za-z0-9])([A-Z])[)\]]?\s*(?:or|and|&|/|、|和|或者?|与)\s*(?:option\s*)?[(\[]?\s*$", re.IGNORECASE)
_NAMED_BEFORE = re.compile(r"\b(?:option|choice|letter)\s*:?\s*$|选项\s*$", re.IGNORECASE)  # not "answer": "Answer: A man is ..." is an article
_WORD_AFTER = re.compile(r"\s+[a-z]")
_VERB_AFTER = re.compile(r"\s+(?:is|was|seems|appears|looks|would|should|could|must|might|can|best|and|or|because|since|as|matches|fits|describes|also)\b")
_LEAD_DELIMITER = re.compile(r"\s*(?:[)\]]\s*)?(?:$|\n|[.:)\]。、;,]|\s[-–—]\s|[-–—]\s|\s+\(|\s+[a-z])")
_LABEL_AFTER = re.compile(r"\s*[)\]]?\s*[.:)\]]")
_AT_START = re.compile(r"\s*(?:(?:option|choice|answer)\s*:?\s*)?[(\[]?\s*", re.IGNORECASE)
_CLAUSE_END = re.compile(r"[.;!?,\n。；！？，]|\bbut\b|\bhowever\b")
_CLAUSE_NEGATION = re.compile(r"\bnot\b|n't\b|\bnever\b|\bcannot\b")
_ANSWER_PHRASE = re.compile(r"^(?:(?:so|thus|therefore)\s*,?\s*)?(?:the\s+)?(?:final\s+|correct\s+|best\s+|right\s+)?(?:answer|option|choice)\s*(?:is|would\s+be|should\s+be|:)\s*"
                            r"|^(?:it\s*(?:'s|is)|i\s+think\s+(?:it'?s|it\s+is)?|i'?d\s+say)\s*", re.IGNORECASE)
_QUOTES = "\"'“”‘’`「」『』"


def parse_options(question: str) -> dict[str, str]:
    """``{letter: option text}`` of a question's option lines ``A``, ``B``, ... in order (empty when it lists fewer than two)."""
    found: dict[str, str] = {}
    for match in _OPTION_LINE.finditer(unicodedata.normalize("NFKC", question or "")):
        letter = match.group(1) or match.group(2) or match.group(3)
        found.setdefault(letter, match.group(4))
    run = {}
    for letter in ALL_LETTERS:  # the run A, B, C, ... ("Q: ..." or "I. ..." lines elsewhere are not options)
        if letter not in found:
            break
        run[letter] = found[letter]
    return run if len(run) >= 2 else {}


def option_letters(question: str) -> str:
    """The option letters a question lists, or A-Z when it lists none."""
    return "".join(parse_options(question)) or ALL_LETTERS


def normalise(text: str) -> str:
    """Full-width forms as ASCII (NFKC), markdown emphasis, inline code and ``\\text{}`` dropped."""
    text = unicodedata.normalize("NFKC", text).replace("’", "'").replace("‘", "'")
    text = re.sub(r"\\text(?:bf)?\{([^{}]*)\}", r"\1", text)
    text = re.sub(r"\*\*|__|`|(?<![\w*])\*(?=\S)|(?<=\S)\*(?![\w*])", "", text)
    text = re.sub(r"^[ \t]*#{1,6}[ \t]+", "", text, flags=re.MULTILINE)
    return text.strip()


def _flat(text: str) -> str:
    """Text compared with option texts: lower case, single spaces, no quotes or final punctuation."""
    text = " ".join(normalise(text).lower().split())
    return text.strip(_QUOTES + " ").rstrip(".。!！").strip(_QUOTES + " ")


def _mentions(region: str) -> list[tuple[str, int, int]]:
    """(letter, start, end) of every option-letter mention (articles / the pronoun dropped)."""
    found = []
    for match in _MENTION.finditer(region):
        letter, after = match.group(1), region[match.end():]
        bracketed = match.start() > 0 and region[match.start() - 1] in "([" and after[:1] in ")]"
        named = _NAMED_BEFORE.search(region[max(0, match.start() - 12):match.start()]) is not None
        if letter in "AI" and not bracketed and not named and _WORD_AFTER.match(after) and (letter == "I" or not _VERB_AFTER.match(after)):
            continue
        found.append((letter, match.start(), match.end()))
    for match in _LOWER_MENTION.finditer(region):
        if _CHOSEN_BEFORE.search(region[max(0, match.start() - CONTEXT):match.start()]):
            found.append(((match.group(1) or match.group(2)).upper(), match.start(), match.end()))
    return sorted(found, key=lambda m: m[1])


class _Reading:
    """The mentions of one answer region, sorted into chosen / rejected / opening / closing."""

    def __init__(self, region: str, options: str):
        self.region, self.options = region, options
        self.chosen: set[str] = set()
        self.rejected: set[str] = set()
        self.mentioned: set[str] = set()  # option letters mentioned (other than as line labels)
        self.joined: set[str] = set()  # letters joined to a chosen or opening one ("B or C")
        self.opening: str | None = None  # the letter that opens the answer ("B. text")
        self.closing: str | None = None  # the letter that ends it ("..., so B.")
        self.last_line: str | None = None  # the letter that opens its last line ("...\n\n**B. text**")
        self.label_chosen: set[str] = set()  # labels after an answer phrase ("Answer:\nB. text"; not in a restated list)
        self.labelled: set[str] = set()  # option letters mentioned only as line labels so far
        self.labels: set[str] = set()  # letters opening a line as a label ("A. ...", "B: ..."): two or more are a restated option list
        self._clause_starts = [0] + [m.end() for m in _CLAUSE_END.finditer(region)]
        self._last = len(region.rstrip(" \t\n.。!)]" + _QUOTES))
        mentions = _mentions(region)
        if len(mentions) > MAX_MENTIONS:
            self.joined.add("?")  # a list of letters, not an answer
            return
        for letter, start, end in mentions:
            self._read(letter, start, end)

    def _line_end(self, at: int) -> int:
        end = self.region.find("\n", at)
        return len(self.region) if end < 0 else end

    def _clause_before(self, at: int) -> str:
        start = self._clause_starts[bisect.bisect_right(self._clause_starts, at) - 1]
        return self.region[max(start, at - 2 * CONTEXT):at]

    def _read(self, letter: str, start: int, end: int) -> None:
        region = self.region
        before, after = region[max(0, start - CONTEXT):start], region[end:end + CONTEXT]
        is_lower = region[start:end].strip("()").islower()
        line_start = region.rfind("\n", 0, start) + 1
        prefix = region[line_start:start]
        delimiter = _LABEL_AFTER if prefix.strip(" \t([") else _LEAD_DELIMITER  # "Option B: ..." yes, "Option A shows ..." no
        opens_line = _AT_START.fullmatch(prefix) is not None and delimiter.match(after) is not None
        is_label = opens_line and _LABEL_AFTER.match(after) is not None
        if is_label:
            self.labels.add(letter)
        if letter in self.options:
            (self.labelled if is_label else self.mentioned).add(letter)
        verdict = _LINE_VERDICT.search(region[end:self._line_end(end)]) if is_label else None
        chosen_before = _CHOSEN_BEFORE.search(before) is not None
        listed_after = _LIST_NEGATED_AFTER.match(after) is not None and not chosen_before  # "答案是A，B错误": A is chosen, B is wrong
        negated = not is_lower and (_NEGATED_BEFORE.search(before) or _NEGATED_AFTER.match(after) or listed_after or self._ends_rejected_list(before))
        if negated or _CLAUSE_NEGATION.search(self._clause_before(start)) or (verdict and verdict.group(2)):
            self.rejected.add(letter)
            return
        chosen = chosen_before or (not is_lower and _CHOSEN_AFTER.match(after) is not None)
        at_start = _AT_START.fullmatch(region[:start]) is not None
        if verdict and verdict.group(1):
            self.chosen.add(letter)  # "B. text - Correct."
        elif chosen:
            (self.label_chosen if is_label else self.chosen).add(letter)
        if at_start and opens_line:
            self.opening = letter
        if end >= self._last:
            self.closing = letter
        elif line_start and opens_line and region.find("\n", end, self._last) < 0:
            self.last_line = letter
        if chosen or at_start:
            self.joined |= self._joined_to(letter, before, after)

    @staticmethod
    def _ends_rejected_list(before: str) -> bool:
        """True when this letter ends a list whose first letter a word before it rejected ("rule out A and B")."""
        head = re.search(r"(?:[(\[]?[A-Z][)\]]?\s*(?:,|and|or|nor|&|/)\s*(?:option\s*)?[(\[]?\s*)+$", before)
        return head is not None and _NEGATED_BEFORE.search(before[:head.start()]) is not None

    @staticmethod
    def _joined_to(letter: str, before: str, after: str) -> set[str]:
        """Other capital letters joined to this one by "or", "and", "/", "," ..."""
        joined = set()
        for match in (_JOINED_AFTER.match(after), _JOINED_BEFORE.search(before)):
            if match and match.group(1).isupper() and match.group(1) != letter:
                joined.add(match.group(1))
        return joined

    def letter(self) -> str | None:
        listed = len(self.labels) >= 2  # "A. ...\nB. ...": the options restated, their labels are no answer
        live = (self.mentioned if listed else self.mentioned | self.labelled) - self.rejected
        if self.joined - self.rejected:
            return None
        opening, last_line = (None, None) if listed else (self.opening, self.last_line)
        chosen = self.chosen | (set() if listed else self.label_chosen)
        if chosen:
            if len(chosen) != 1 or chosen & self.rejected:
                return None
            (letter,) = chosen
            if opening is not None and opening != letter:
                return None
            return letter
        for placed in (opening, self.closing, last_line):
            if placed is not None and placed not in self.rejected and live == {placed}:
                return placed
        return None


def _whole_letter(region: str) -> str | None:
    text = region.strip().strip(_QUOTES).strip().rstrip(".。!！").strip()
    match = _WHOLE.fullmatch(text)
    if not match:
        return None
    return (match.group(1) or match.group(2) or match.group(3)).upper()


def _text_letter(region: str, texts: dict[str, str]) -> str | None:
    """The letter whose option text is the answer (whole, or after an opening answer phrase)."""
    if not texts:
        return None
    flats = {letter: _flat(text) for letter, text in texts.items()}
    first_line = region.strip().split("\n", 1)[0]
    for candidate in (region, _ANSWER_PHRASE.sub("", region.strip()), first_line, _ANSWER_PHRASE.sub("", first_line.strip())):
        flat = _flat(candidate)
        hits = [letter for letter, text in flats.items() if text and text == flat]
        if len(hits) == 1:
            return hits[0]
        if hits:
            return None
    return None


def _lower_labelled(region: str, texts: dict[str, str]) -> str | None:
    """``b. <option b's text>``: a lower-case label confirmed by its own option's text."""
    match = re.fullmatch(r"[(\[]?([a-z])[).:\]]\s*([^\n]+)", region.split("\n", 1)[0].strip())
    if not match or match.group(1).upper() not in texts:
        return None
    letter = match.group(1).upper()
    return letter if _flat(match.group(2)) == _flat(texts[letter]) else None


def _opening_text_conflicts(region: str, letter: str, texts: dict[str, str]) -> bool:
    """True when ``B. <text of another option>``: the letter and the text disagree."""
    match = re.match(r"\s*[(\[]?[A-Za-z][)\]]?\s*(?:[.:)\]、-]\s*)?(.+)", region.split("\n", 1)[0])
    if not match or not texts:
        return False
    rest = _flat(match.group(1))
    others = [k for k, text in texts.items() if k != letter and _flat(text) == rest]
    return bool(others) and _flat(texts.get(letter, "")) != rest


def extract_letter(text: str, options: str | dict[str, str] = ALL_LETTERS) -> str | None:
    """The option letter an output chose, or ``None`` when it chose none (or it is ambiguous).

    ``options``: the option letters (``"ABCD"``) or ``{letter: text}`` (:func:`parse_options`),
    which also lets an answer that is one option's text count as that option.
    """
    texts = options if isinstance(options, dict) else {}
    letters = "".join(options) if isinstance(options, dict) else options
    region, _ = locate_answer(text if isinstance(text, str) else "")
    if region is None:
        return None
    region = normalise(region)
    if not region:
        return None
    letter = _whole_letter(region)
    if letter is None:
        reading = _Reading(region, letters)
        letter = reading.letter()
        if letter is None:
            return _text_letter(region, texts) or _lower_labelled(region, texts) if not (reading.mentioned or reading.labelled or reading.rejected) else None
    if letter not in letters or _opening_text_conflicts(region, letter, texts):
        return None
    return letter


def truth_letter(answer: str, options: dict[str, str] | str = ALL_LETTERS) -> str | None:
    """A ground truth's option letter (``B``, ``b``, ``(B)``, ``B. text``, ``B) text`` or the option's text), or ``None``."""
    texts = options if isinstance(options, dict) else {}
    letters = "".join(options) if isinstance(options, dict) else options
    text = normalise(str(answer))
    match = re.fullmatch(r"[(\[]?([A-Za-z])[)\]]?(?:\s*[.:)、]\s*.*)?", text.rstrip(".。"), re.DOTALL)
    letter = match.group(1).upper() if match else None
    if letter is None or letter not in letters:
        letter = _text_letter(text, texts)
    return letter if letter is not None and letter in letters else None

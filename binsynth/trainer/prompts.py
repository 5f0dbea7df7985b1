"""Chat prompts and answers in Qwen2-Audio-Instruct's format, and parsing of model output.

A prompt is the ChatML of Qwen2-Audio-Instruct with the clip as ``Audio 1:`` and its
``<|AUDIO|>`` placeholder already expanded to one token per audio frame (what the
processor does); the model answers ``<think>…</think><answer>…</answer><|im_end|>``.
Multiple-choice questions list their options as ``A. …`` lines and are answered with the
option's letter.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from binsynth.qa.answers import LETTERS, format_mc

SPECIAL_TOKENS = ("<|endoftext|>", "<|im_start|>", "<|im_end|>", "<|audio_bos|>", "<|AUDIO|>", "<|audio_eos|>")
END = "<|im_end|>"
SYSTEM = ("You hear a binaural (two-ear) recording. Answer about what you hear and where it is. "
          "Reason inside <think></think>, then give the answer inside <answer></answer>.")

_ANSWER = re.compile(r"<answer>(.*?)</answer>", re.S)
_FORMAT = re.compile(r"^\s*<think>.*?</think>\s*<answer>.*?</answer>\s*$", re.S)


def question_text(question: str, choices: Sequence[str] = ()) -> str:
    return format_mc(question, choices) if len(choices) else question


def prompt_text(question: str, choices: Sequence[str], n_audio_tokens: int) -> str:
    """The whole prompt up to the assistant's first token."""
    audio = "<|audio_bos|>" + "<|AUDIO|>" * n_audio_tokens + "<|audio_eos|>"
    return (f"<|im_start|>system\n{SYSTEM}{END}\n"
            f"<|im_start|>user\nAudio 1: {audio}\n{question_text(question, choices)}{END}\n"
            f"<|im_start|>assistant\n")


def followup_text(question: str, choices: Sequence[str]) -> str:
    """A further user turn about the same clip, after an assistant reply (multi-turn SFT)."""
    return f"\n<|im_start|>user\n{question_text(question, choices)}{END}\n<|im_start|>assistant\n"


def reference_answer(answer: str, choices: Sequence[str], answer_index: int) -> str:
    """What the answer tag holds for a QA item: the option letter for multiple choice."""
    return LETTERS[answer_index] if len(choices) and answer_index >= 0 else answer


def target_text(answer: str, think: str = "") -> str:
    """The assistant's reply the SFT loss is computed on (``END`` included: it learns to stop)."""
    return f"<think>{think}</think><answer>{answer}</answer>{END}"


def parse_reply(text: str) -> tuple[str | None, bool]:
    """(the text inside the last ``<answer>`` tag or None, whether the reply is exactly
    ``<think>…</think><answer>…</answer>``). ``END`` and anything after it is ignored."""
    text = text.split(END, 1)[0]
    found = _ANSWER.findall(text)
    return (found[-1].strip() if found else None), bool(_FORMAT.match(text))

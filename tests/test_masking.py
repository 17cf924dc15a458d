"""Masks keep secrets apart and equal secrets together within a run, and cannot be matched without its key."""
import hashlib
import subprocess
import sys

from plumbing.masking import MASKED, mask


def test_equal_secrets_mask_alike_and_different_ones_do_not():
    assert mask("wonderland") == mask("wonderland") != mask("wonderlanD")
    assert MASKED.fullmatch(mask("wonderland"))


def test_a_mask_cannot_be_confirmed_offline_from_a_word_list():
    word = "wonderland"
    assert mask(word)[3:] != hashlib.sha256(word.encode()).hexdigest()[:8]  # no unkeyed digest
    other_run = subprocess.run([sys.executable, "-c", "from plumbing.masking import mask; print(mask('wonderland'))"],
                               capture_output=True, text=True, check=True).stdout.strip()
    assert MASKED.fullmatch(other_run) and other_run != mask(word)  # each run has a key of its own

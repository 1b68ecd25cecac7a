"""Text, one definition each: sentences, words, normal forms, instructions to the assistant."""

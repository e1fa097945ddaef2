"""Static analysis: one walk records facts (facts.py); resolvers answer questions about them."""

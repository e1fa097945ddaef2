from optlint.rules.base import Rule


class SyntaxErrorRule(Rule):
    code = "OPT000"
    name = "syntax-error"
    summary = "A file that cannot be read or parsed"
    what_it_does = """
        Reports a file optlint could not check: it cannot be read, is not valid text in its
        declared encoding, or does not parse as Python. The message gives the parser's reason
        and position. The run exits with status 2; every other file is still checked.
    """
    why_bad = """
        A file that is not checked can hide every other finding. optlint never guesses at
        code it cannot parse.
    """
    fix_safety = "No automatic fix: correct the file."

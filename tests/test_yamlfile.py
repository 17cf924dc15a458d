"""YAML with ${VARS}: a value that is one variable alone is typed as YAML types it, unless quoted."""
import pytest

from plumbing import yamlfile

VARIABLES = {"PORT": "18080", "ON": "true", "SECRET": "0042", "HOST": "127.0.0.1"}


def test_a_plain_variable_alone_is_typed_after_substitution():
    data = yamlfile.parse("port: ${PORT}\ntls: ${ON}\nfallback: ${MISSING:-5}\n", "t.yaml", VARIABLES).data
    assert data == {"port": 18080, "tls": True, "fallback": 5}


@pytest.mark.parametrize("text, expected", [
    ('secret: "${SECRET}"\n', "0042"),         # quoted: a string, whatever it looks like
    ("secret: '${PORT}'\n", "18080"),
    ("secret: x${PORT}\n", "x18080"),           # text around it: a string
    ("secret: ${HOST}\n", "127.0.0.1"),         # not a YAML number
])
def test_quoted_or_embedded_variables_stay_strings(text, expected):
    assert yamlfile.parse(text, "t.yaml", VARIABLES).data == {"secret": expected}


def test_a_typed_variable_still_meets_the_schema_with_its_line():
    document = yamlfile.parse("name: x\nport: ${HOST}\n", "decl.yaml", VARIABLES)
    with pytest.raises(yamlfile.YamlError, match=r"decl.yaml:2:7: port: '127.0.0.1' is not of type 'integer'"):
        document.validate({"type": "object", "properties": {"port": {"type": "integer"}}})

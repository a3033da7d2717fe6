"""Rules every template keeps."""

from pathlib import Path

from django.conf import settings


def test_no_template_has_a_comment_django_would_print():
    # Django's {# ... #} comment ends on its own line; one spread over several lines is
    # printed on the page as it is. Longer comments use {% comment %}.
    offenders = []
    for path in Path(settings.BASE_DIR, "templates").rglob("*.html"):
        for number, line in enumerate(path.read_text().splitlines(), start=1):
            if "{#" in line and "#}" not in line[line.index("{#") :]:
                offenders.append(f"{path.relative_to(settings.BASE_DIR)}:{number}")
    assert offenders == []

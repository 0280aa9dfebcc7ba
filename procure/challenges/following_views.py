"""The tags a person follows and whether they are e-mailed about them (on the account pages)."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, flash, redirect, render_template, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required

from procure.challenges import following, forms
from procure.challenges.messages import ERROR_MESSAGES
from procure.db import get_session, utcnow
from procure.errors import RuleViolation
from procure.forms import add_errors
from procure.security import is_safe_next

bp = Blueprint("following", __name__, url_prefix="/account/notifications")


def _page(*, status: int = 200, follow_form: Any = None, preferences_form: Any = None):
    failed = follow_form if follow_form is not None and follow_form.errors else preferences_form
    return render_template(
        "following/notifications.html", form=failed,
        tags=following.followed_tags(get_session(), current_user),
        follow_form=follow_form or forms.FollowForm(formdata=None),
        preferences_form=preferences_form or forms.PreferencesForm(
            formdata=None, notify="yes" if current_user.notify_followed_tags else "no"),
    ), status


@bp.get("")
@login_required
def show_notifications():
    """The tags followed, a form to follow more, and whether to be e-mailed about them."""
    return _page()


@bp.post("/follow")
@login_required
def follow_tags():
    """Follow one or more tags (from this page, or the button by a tag on a challenge)."""
    form = forms.FollowForm()
    if form.validate_on_submit():
        db = get_session()
        try:
            new = following.follow_tags(db, actor=current_user, tags_text=form.tags.data or "",
                                        now=utcnow())
        except RuleViolation as e:
            db.rollback()
            add_errors(form, e.errors, ERROR_MESSAGES)
        else:
            if new:
                flash(_("You now follow: %(tags)s", tags=", ".join(new)), "success")
            else:
                flash(_("You already follow these tags."), "success")
            target = form.next.data
            return redirect(target if is_safe_next(target)
                            else url_for("following.show_notifications"))
    return _page(status=400, follow_form=form)


@bp.post("/unfollow")
@login_required
def unfollow_tag():
    """Stop following one tag."""
    form = forms.UnfollowForm()
    if form.validate_on_submit() and form.tag.data:
        following.unfollow_tag(get_session(), actor=current_user, tag=form.tag.data, now=utcnow())
        flash(_("You no longer follow %(tag)s.", tag=form.tag.data), "success")
    return redirect(url_for("following.show_notifications"))


@bp.post("/preferences")
@login_required
def update_preferences():
    """Whether to be e-mailed when a challenge with a followed tag opens."""
    form = forms.PreferencesForm()
    if form.validate_on_submit():
        following.set_notification_preferences(get_session(), actor=current_user,
                                               notify_followed_tags=form.notify.data == "yes",
                                               now=utcnow())
        flash(_("Your e-mail preference is saved."), "success")
        return redirect(url_for("following.show_notifications"))
    return _page(status=400, preferences_form=form)

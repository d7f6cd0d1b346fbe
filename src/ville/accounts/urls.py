from django.urls import path

from ville.accounts.views import agent, auth, profile

app_name = "accounts"

urlpatterns = [
    path("connexion/", auth.login_view, name="login"),
    path("deconnexion/", auth.logout_view, name="logout"),
    path("inscription/", auth.signup_view, name="signup"),
    path("inscription/envoyee/", auth.signup_done_view, name="signup_done"),
    path("verification/<str:token>/", auth.verify_email_view, name="verify_email"),
    path("mot-de-passe/oubli/", auth.password_reset_view, name="password_reset"),
    path(
        "mot-de-passe/nouveau/<uidb64>/<token>/",
        auth.password_reset_confirm_view,
        name="password_reset_confirm",
    ),
    path("mot-de-passe/changer/", auth.password_change_view, name="password_change"),
    path("securite/totp/", auth.mfa_setup_view, name="mfa_setup"),
    path("securite/code/", auth.mfa_verify_view, name="mfa_verify"),
    path("profil/", profile.profile_view, name="profile"),
    path("foyer/", profile.household_view, name="household"),
    path("foyer/membre/ajouter/", profile.member_add_view, name="member_add"),
    path("foyer/membre/<uuid:member_id>/", profile.member_edit_view, name="member_edit"),
    path(
        "foyer/membre/<uuid:member_id>/supprimer/",
        profile.member_remove_view,
        name="member_remove",
    ),
    path("foyer/annuler/", profile.member_undo_view, name="member_undo"),
    path("agents/citoyens/<uuid:user_id>/", agent.agent_citizen_view, name="agent_citizen"),
]

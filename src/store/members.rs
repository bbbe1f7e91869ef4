use super::{execute, query_one, required, value};
use crate::domain::enums::MemberStatus;
use crate::domain::DbEnum;
use pgrx::datum::{JsonB, Uuid};

/// An account as the login needs it.
pub struct LoginAccount {
    pub id: Uuid,
    pub password_hash: Option<String>,
}

/// The active member whose member number or phone is `identifier`. A member-number match
/// wins over a phone match, so the answer never depends on row order (docs/contract.md B22).
pub fn find_active_for_login(identifier: &str) -> Option<LoginAccount> {
    query_one(
        "SELECT m.id, p.password_hash
           FROM public.member_profiles m
           LEFT JOIN mps_internal.member_passwords p ON p.member_id = m.id
          WHERE (m.member_no = $1 OR m.phone = $1) AND m.status = 'active'
          ORDER BY (m.member_no = $1) DESC, m.created_at, m.id
          LIMIT 1",
        &[identifier.into()],
        |r| {
            Ok(LoginAccount {
                id: required(r.get::<Uuid>(1)?, "member_profiles.id"),
                password_hash: r.get::<String>(2)?,
            })
        },
    )
}

/// The member's password hash, for checking the current password of a credential change.
pub fn login_account(id: Uuid) -> Option<LoginAccount> {
    query_one(
        "SELECT m.id, p.password_hash
           FROM public.member_profiles m LEFT JOIN mps_internal.member_passwords p ON p.member_id = m.id
          WHERE m.id = $1",
        &[id.into()],
        |r| {
            Ok(LoginAccount {
                id: required(r.get::<Uuid>(1)?, "member_profiles.id"),
                password_hash: r.get::<String>(2)?,
            })
        },
    )
}

/// member_login's member fields.
pub fn login_profile(id: Uuid) -> serde_json::Value {
    let profile: Option<JsonB> = value(
        "SELECT pg_catalog.jsonb_build_object(
                    'member_id', id, 'member_no', member_no, 'name', name, 'phone', phone, 'email', email)
           FROM public.member_profiles WHERE id = $1",
        &[id.into()],
    );
    required(profile, "member profile").0
}

pub struct NewMember<'a> {
    pub name: &'a str,
    pub phone: Option<&'a str>,
    pub email: Option<&'a str>,
    pub password_hash: Option<String>,
    pub binding_user_org: Option<&'a str>,
    pub binding_org_id: Option<&'a str>,
    pub auth_user_id: Option<Uuid>,
}

/// Inserts the member, and their password hash if any, unless a unique value (phone, email,
/// external link) is taken; a concurrent insert of the same value then loses here instead
/// of failing with 23505.
pub fn insert(m: &NewMember) -> Option<Uuid> {
    value(
        "WITH member AS (
             INSERT INTO public.member_profiles (name, phone, email, binding_user_org, binding_org_id, auth_user_id)
             VALUES ($1, $2, $3, $5, $6, $7)
             ON CONFLICT DO NOTHING
             RETURNING id),
         password AS (
             INSERT INTO mps_internal.member_passwords (member_id, password_hash)
             SELECT id, $4 FROM member WHERE $4 IS NOT NULL)
         SELECT id FROM member",
        &[
            m.name.into(),
            m.phone.into(),
            m.email.into(),
            m.password_hash.as_deref().into(),
            m.binding_user_org.into(),
            m.binding_org_id.into(),
            m.auth_user_id.into(),
        ],
    )
}

/// Which unique value of a refused member insert is taken.
pub enum Taken {
    Phone,
    Email,
    ExternalLink,
    AuthUser,
}

pub fn taken(m: &NewMember) -> Option<Taken> {
    if let Some(taken) = contact_taken(None, m.phone, m.email) {
        return Some(taken);
    }
    let row = query_one(
        "SELECT EXISTS (SELECT 1 FROM public.member_profiles WHERE binding_user_org = $1 AND binding_org_id = $2),
                EXISTS (SELECT 1 FROM public.member_profiles WHERE auth_user_id = $3)",
        &[m.binding_user_org.into(), m.binding_org_id.into(), m.auth_user_id.into()],
        |r| Ok((r.get::<bool>(1)?.unwrap_or(false), r.get::<bool>(2)?.unwrap_or(false))),
    )?;
    match row {
        (true, _) => Some(Taken::ExternalLink),
        (_, true) => Some(Taken::AuthUser),
        _ => None,
    }
}

/// Whether a Supabase auth user exists (always true where there is no auth.users table).
pub fn auth_user_exists(auth_user_id: Uuid) -> bool {
    let has_auth_users: Option<bool> = value("SELECT pg_catalog.to_regclass('auth.users') IS NOT NULL", &[]);
    if has_auth_users != Some(true) {
        return true;
    }
    value::<bool>("SELECT EXISTS (SELECT 1 FROM auth.users WHERE id = $1)", &[auth_user_id.into()]) == Some(true)
}

/// Links an external identity; false if that identity or provider link is taken.
pub fn insert_external_identity(member_id: Uuid, provider: &str, external_id: &str) -> bool {
    execute(
        "INSERT INTO public.member_external_identities (member_id, provider, external_id)
         VALUES ($1, $2, $3) ON CONFLICT DO NOTHING",
        &[member_id.into(), provider.into(), external_id.into()],
    ) == 1
}

/// Sets the member's password hash; false if there is no such member.
pub fn set_password_hash(id: Uuid, hash: &str) -> bool {
    execute(
        "INSERT INTO mps_internal.member_passwords (member_id, password_hash)
         SELECT id, $2 FROM public.member_profiles WHERE id = $1
         ON CONFLICT (member_id) DO UPDATE SET password_hash = EXCLUDED.password_hash",
        &[id.into(), hash.into()],
    ) == 1
}

/// Whether the member exists, row-locked (serializes changes to the member's bindings).
pub fn lock(member_id: Uuid) -> bool {
    value::<bool>("SELECT true FROM public.member_profiles WHERE id = $1 FOR UPDATE", &[member_id.into()]) == Some(true)
}

pub fn exists(member_id: Uuid) -> bool {
    value::<bool>("SELECT EXISTS (SELECT 1 FROM public.member_profiles WHERE id = $1)", &[member_id.into()])
        == Some(true)
}

/// The member an identifier names: a member number, else a phone, else an email. The order
/// makes the answer deterministic when one member's phone is another's number
/// (docs/contract.md B22).
pub fn find_by_identifier(identifier: &str) -> Option<Uuid> {
    value(
        "SELECT id FROM public.member_profiles
          WHERE member_no = $1 OR phone = $1 OR email = $1
          ORDER BY CASE WHEN member_no = $1 THEN 0 WHEN phone = $1 THEN 1 ELSE 2 END, created_at, id
          LIMIT 1",
        &[identifier.into()],
    )
}

pub fn set_status(member_id: Uuid, status: MemberStatus) -> bool {
    execute(
        "UPDATE public.member_profiles SET status = $2::public.member_status WHERE id = $1",
        &[member_id.into(), status.label().into()],
    ) == 1
}

/// Changes the given fields (None keeps a field); false if the member does not exist.
pub fn update_contact(member_id: Uuid, name: Option<&str>, phone: Option<&str>, email: Option<&str>) -> bool {
    execute(
        "UPDATE public.member_profiles
            SET name = COALESCE($2, name), phone = COALESCE($3, phone), email = COALESCE($4, email)
          WHERE id = $1",
        &[member_id.into(), name.into(), phone.into(), email.into()],
    ) == 1
}

/// Which of phone and email is taken for `member_id` (None: a member not yet created): a
/// phone is taken by another member's phone or by any member's email or member number, an
/// email by another member's email or by any member's phone or member number. Every
/// identifier (member_login, the *_by_identifier RPCs) so names exactly one member.
pub fn contact_taken(member_id: Option<Uuid>, phone: Option<&str>, email: Option<&str>) -> Option<Taken> {
    let row = query_one(
        "SELECT EXISTS (SELECT 1 FROM public.member_profiles
                         WHERE (phone = $2 AND id IS DISTINCT FROM $1) OR email = $2 OR member_no = $2),
                EXISTS (SELECT 1 FROM public.member_profiles
                         WHERE (email = $3 AND id IS DISTINCT FROM $1) OR phone = $3 OR member_no = $3)",
        &[member_id.into(), phone.into(), email.into()],
        |r| Ok((r.get::<bool>(1)?.unwrap_or(false), r.get::<bool>(2)?.unwrap_or(false))),
    )?;
    match row {
        (true, _) => Some(Taken::Phone),
        (_, true) => Some(Taken::Email),
        _ => None,
    }
}

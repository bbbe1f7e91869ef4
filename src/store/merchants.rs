use super::{execute, query_one, required, value};
use crate::store::members::LoginAccount;
use pgrx::datum::{JsonB, Uuid};

pub fn find_active_for_login(code: &str) -> Option<LoginAccount> {
    query_one(
        "SELECT m.id, p.password_hash
           FROM public.merchants m LEFT JOIN mps_internal.merchant_passwords p ON p.merchant_id = m.id
          WHERE m.code = $1 AND m.status = 'active'",
        &[code.into()],
        |r| Ok(LoginAccount { id: required(r.get::<Uuid>(1)?, "merchants.id"), password_hash: r.get::<String>(2)? }),
    )
}

/// The merchant's password hash, for checking the current password of a password change.
pub fn login_account(id: Uuid) -> Option<LoginAccount> {
    query_one(
        "SELECT m.id, p.password_hash
           FROM public.merchants m LEFT JOIN mps_internal.merchant_passwords p ON p.merchant_id = m.id
          WHERE m.id = $1",
        &[id.into()],
        |r| Ok(LoginAccount { id: required(r.get::<Uuid>(1)?, "merchants.id"), password_hash: r.get::<String>(2)? }),
    )
}

/// merchant_login's merchant fields.
pub fn login_profile(id: Uuid) -> serde_json::Value {
    let profile: Option<JsonB> = value(
        "SELECT pg_catalog.jsonb_build_object('merchant_id', id, 'merchant_code', code, 'merchant_name', name)
           FROM public.merchants WHERE id = $1",
        &[id.into()],
    );
    required(profile, "merchant profile").0
}

/// Inserts the merchant, and its password hash if any, unless its code is taken.
pub fn insert(code: &str, name: &str, contact: Option<&str>, password_hash: Option<&str>) -> Option<Uuid> {
    value(
        "WITH merchant AS (
             INSERT INTO public.merchants (code, name, contact) VALUES ($1, $2, $3)
             ON CONFLICT (code) DO NOTHING RETURNING id),
         password AS (
             INSERT INTO mps_internal.merchant_passwords (merchant_id, password_hash)
             SELECT id, $4 FROM merchant WHERE $4 IS NOT NULL)
         SELECT id FROM merchant",
        &[code.into(), name.into(), contact.into(), password_hash.into()],
    )
}

/// Sets the merchant's password hash; false if there is no such merchant.
pub fn set_password_hash(id: Uuid, hash: &str) -> bool {
    execute(
        "INSERT INTO mps_internal.merchant_passwords (merchant_id, password_hash)
         SELECT id, $2 FROM public.merchants WHERE id = $1
         ON CONFLICT (merchant_id) DO UPDATE SET password_hash = EXCLUDED.password_hash",
        &[id.into(), hash.into()],
    ) == 1
}

/// The merchant with this code, and whether it is active.
pub fn find_by_code_with_status(code: &str) -> Option<(Uuid, bool)> {
    query_one("SELECT id, status = 'active' FROM public.merchants WHERE code = $1", &[code.into()], |r| {
        Ok((required(r.get::<Uuid>(1)?, "merchants.id"), r.get::<bool>(2)?.unwrap_or(false)))
    })
}

pub fn exists(merchant_id: Uuid) -> bool {
    value::<bool>("SELECT EXISTS (SELECT 1 FROM public.merchants WHERE id = $1)", &[merchant_id.into()]) == Some(true)
}

/// Sets active/inactive; false if there is no such merchant.
pub fn set_status(merchant_id: Uuid, status: &str) -> bool {
    execute("UPDATE public.merchants SET status = $2 WHERE id = $1", &[merchant_id.into(), status.into()]) == 1
}

pub fn find_by_code(code: &str) -> Option<Uuid> {
    value("SELECT id FROM public.merchants WHERE code = $1", &[code.into()])
}

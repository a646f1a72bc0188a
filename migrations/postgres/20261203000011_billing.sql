-- Billing (hosted mode; PostgreSQL dialect; keep in step with sqlite).
-- One row per workspace that billing has touched: its Stripe customer, the subscription as
-- Stripe last described it (processing a webhook reads Stripe's current state and writes it
-- here whole), whether the admins were told the workspace lapsed, and what was last reported
-- to Stripe's meter of active members. The trial runs 30 days from the install unless
-- `trial_ends_at` says otherwise (the demo team, whose made-up history starts weeks earlier).
CREATE TABLE billing_accounts (
    workspace_id          TEXT PRIMARY KEY NOT NULL REFERENCES workspaces (id) ON DELETE CASCADE,
    trial_ends_at         BIGINT,
    stripe_customer_id    TEXT UNIQUE,
    subscription_id       TEXT,
    subscription_status   TEXT,
    period_start          BIGINT,
    period_end            BIGINT,
    cancel_at_period_end  BIGINT NOT NULL DEFAULT 0 CHECK (cancel_at_period_end IN (0, 1)),
    lapse_notice_at       BIGINT,
    reported_period_start BIGINT,
    reported_active       BIGINT,
    created_at            BIGINT NOT NULL,
    updated_at            BIGINT NOT NULL
);

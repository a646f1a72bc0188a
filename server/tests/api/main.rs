//! Integration tests: the real application over HTTP, and the repositories, each test on
//! its own fresh SQLite database and again on its own PostgreSQL database.

#[macro_use]
mod helpers;

mod demo;
mod health;
mod pages;
mod storage;

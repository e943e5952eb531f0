"""Persistence: SQLAlchemy 2 ORM, Alembic migrations, repositories with upserts."""

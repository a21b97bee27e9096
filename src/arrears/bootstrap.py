"""The one place that picks concrete adapters from settings and wires the use cases."""

import os
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from functools import cached_property
from pathlib import Path

from sqlalchemy import Engine

from arrears.adapters.calendar_source import business_calendar
from arrears.adapters.compliance_pack import contact_packs
from arrears.adapters.db.audit_store import SqlAuditLog
from arrears.adapters.db.bureau_store import SqlBureauStore
from arrears.adapters.db.case_store import SqlCaseStore
from arrears.adapters.db.casework_store import SqlCaseworkStore
from arrears.adapters.db.contact_store import SqlContactStore
from arrears.adapters.db.dashboard_store import SqlDashboardStore
from arrears.adapters.db.dispatch_store import SqlDispatchStore
from arrears.adapters.db.engine import make_engine
from arrears.adapters.db.engine_store import SqlEngineStore
from arrears.adapters.db.identity_store import SqlIdentityStore
from arrears.adapters.db.ledger_store import SqlLedgerStore
from arrears.adapters.db.migrate import current_revision, head_revision, upgrade
from arrears.adapters.db.portal_store import SqlPortalStore
from arrears.adapters.db.reply_store import SqlReplyStore
from arrears.adapters.db.track_store import SqlTrackStore
from arrears.adapters.feeds.reader import FileFeedReader
from arrears.adapters.passwords import Argon2Passwords
from arrears.adapters.phone_zones import PhonenumbersZones
from arrears.adapters.settings import Settings, config_path, load_settings
from arrears.adapters.strategy_file import ladders_for
from arrears.batch.pipeline import RunContext
from arrears.domain.calendar import BusinessCalendar
from arrears.domain.errors import DomainError
from arrears.domain.ladder import Ladder, StageDecision, stage_on
from arrears.domain.legal_deadlines import DeadlineRule
from arrears.domain.limitation import TimeBar
from arrears.domain.loan import Loan, Payment
from arrears.domain.outsourcing import OutsourcingRule
from arrears.domain.revisions import Revision
from arrears.domain.statement import LoanState
from arrears.domain.terms import Terms
from arrears.services.contact_check import ContactTerms
from arrears.services.replies import ReplyTaking, reply_rules
from arrears.services.step_checks import StepTerms

DATABASE_ENV = "ARREARS_DATABASE_URL"
DEFAULT_DATABASE = "sqlite:///arrears.db"


class NotInitialised(DomainError):
    """The database has not been created or migrated to this version."""


@dataclass
class App:
    """The wired application: settings, store adapters and the terms resolver."""

    database_url: str
    settings: Settings

    @cached_property
    def engine(self) -> Engine:
        """The database engine (created on first use)."""
        return make_engine(self.database_url)

    @cached_property
    def ledger(self) -> SqlLedgerStore:
        """The stored ledger (borrowers, loans, instalments, payments)."""
        return SqlLedgerStore(self.engine)

    @cached_property
    def runs(self) -> SqlEngineStore:
        """Where the end-of-day run reads the book and writes its results."""
        return SqlEngineStore(self.engine)

    @cached_property
    def cases(self) -> SqlCaseStore:
        """Promises and worked plan items."""
        return SqlCaseStore(self.engine)

    @cached_property
    def ladders(self) -> dict[str, Ladder]:
        """Each product's strategy ladder (its own file, else its jurisdiction's default)."""
        base = self.settings.path.parent if self.settings.path else None
        return ladders_for(self.settings.products, base)

    @property
    def default_stages(self) -> dict[str, str]:
        """Each ladder's default stage by its label: where a loan rests out of collection."""
        return {ladder.label: ladder.default_stage for ladder in self.ladders.values()}

    def ladder_of(self, loan_id: str) -> Ladder:
        """The strategy ladder of a loan's product."""
        product = self.desk.product_of(loan_id)
        if product is None or product not in self.ladders:
            raise DomainError(f"loan {loan_id!r} has no product with a ladder")
        return self.ladders[product]

    def stage_of(self, loan: Loan, state: LoanState) -> StageDecision | None:
        """The stage the loan's ladder puts it in on its state's day, as the run decides it
        (with the flags set on it); None: its product has no ladder."""
        ladder = self.ladders.get(loan.product)
        if ladder is None:
            return None
        return stage_on(ladder, loan, state, (f["flag"] for f in self.track.flags(loan.loan_id)))

    def time_bar_of(self, loan_id: str, on: date) -> TimeBar | None:
        """What decides whether a loan's debt is time-barred on `on` (None: its pack refuses
        no action for that): its oldest unpaid due date that day, by the domain's evaluation."""
        product = self.desk.product_of(loan_id)
        if product is None:
            raise DomainError(f"loan {loan_id!r} not found")
        if self.time_bar(product, None) is None:
            return None  # the pack has no limitation rule: the loan need not be evaluated
        return self.time_bar(product, self.state_on(loan_id, on).oldest_past_due)

    def state_on(self, loan_id: str, on: date) -> LoanState:
        """The loan's state at the end of `on`, by the domain's evaluation (a payment since
        the last run counts, and so does a day before it; its borrower's holds stop its
        clocks where its product says)."""
        found = list(self.ledger.load_book([loan_id]))
        if not found:
            raise DomainError(f"loan {loan_id!r} not found")
        loan, payments = found[0]
        return self.evaluate(loan, payments, on)

    def owed_in_all(self, loan_id: str, on: date, since: date) -> int:
        """All the loan owes at the end of `on` (LoanState.owed_in_all) with only the payments
        dated before `since` counted: what a promise made on `since` and due on `on` is for at
        most, the money paid from its day on counting towards it (domain/promises.py)."""
        found = list(self.ledger.load_book([loan_id]))
        if not found:
            raise DomainError(f"loan {loan_id!r} not found")
        loan, payments = found[0]
        earlier = [p for p in payments if p.paid_on < since]
        return self.evaluate(loan, earlier, on).owed_in_all

    @cached_property
    def step_terms(self) -> StepTerms:
        """What the desk's visits and legal steps are judged by besides the stores."""
        return StepTerms(
            self.ladder_of, self.state_on, self.time_bar_of, self.contacts, self.contact_terms,
            self.deadline_rule_of, self.outsourcing_of,
        )  # fmt: skip

    def deadline_rule_of(self, loan_id: str) -> DeadlineRule | None:
        """The deadline a judgment starts under the loan's jurisdiction's pack (None: none)."""
        product = self.desk.product_of(loan_id)
        if product is None:
            raise DomainError(f"loan {loan_id!r} not found")
        jurisdiction = self.settings.product(product).jurisdiction
        return self.contact_terms.packs[jurisdiction].enforcement

    def outsourcing_of(self, loan_id: str) -> OutsourcingRule | None:
        """The outsourcing rule of the loan's jurisdiction's pack (None: the pack sets none,
        and which agency a case is placed with is lender policy)."""
        product = self.desk.product_of(loan_id)
        if product is None:
            raise DomainError(f"loan {loan_id!r} not found")
        jurisdiction = self.settings.product(product).jurisdiction
        return self.contact_terms.packs[jurisdiction].outsourcing

    def time_bar(self, product_code: str, oldest: date | None) -> TimeBar | None:
        """The time bar of a loan of the product whose oldest instalment past due fell due on
        `oldest` (None: none is; LoanState.oldest_past_due, whatever days its ageing clock
        stood still); None: the product's pack refuses no action on a time-barred debt."""
        product = self.settings.product(product_code)
        limitation = self.contact_terms.packs[product.jurisdiction].limitation
        if limitation is None:
            return None
        years = product.limitation_years or limitation.years
        return TimeBar(limitation, years, oldest)

    def evaluate(
        self,
        loan: Loan,
        payments: list[Payment],
        on: date,
        revisions: Sequence[Revision] | None = None,
    ) -> LoanState:
        """The domain's evaluation of a loan on a day (the reference every engine agrees
        with), its borrower's holds stopping its clocks where its product says, its approved
        extensions moving its due dates from their day (`revisions`: the loan's, when read
        already for many loans at once; None: read now)."""
        product = self.terms.products.get(loan.product)
        held = product is not None and product.pauses_anything
        holds = self.contacts.holds_of(loan.borrower_id) if held else ()
        if revisions is None:
            revisions = self.desk.revisions_of(loan.loan_id)
        return self.terms.evaluate(loan, payments, on, holds, revisions)

    def run_context(self, as_of: date) -> RunContext:
        """What the end-of-day run for `as_of` decides with."""
        return RunContext(as_of, self.terms, self.ladders, contact_packs())

    @cached_property
    def feed_reader(self) -> FileFeedReader:
        """Reads CSV and Parquet feed files."""
        return FileFeedReader()

    @cached_property
    def terms(self) -> Terms:
        """Products, caps, LPR and calendars for evaluating loans."""
        settings = self.settings

        def calendar_for(jurisdiction: str, first: int, last: int) -> BusinessCalendar:
            years = range(first, last + 1)
            return business_calendar(jurisdiction, years, settings.calendar_overrides)

        return Terms(settings.products, settings.cap_policies, settings.lpr, calendar_for)

    @cached_property
    def contacts(self) -> SqlContactStore:
        """Contact attempts with their decisions, holds and opt-outs."""
        return SqlContactStore(self.engine)

    @cached_property
    def dispatch(self) -> SqlDispatchStore:
        """The outbox's deliveries: what the texts and e-mails sent did."""
        return SqlDispatchStore(self.engine)

    @cached_property
    def replies(self) -> SqlReplyStore:
        """Borrowers' replies to texts, with the opt-outs they record."""
        jurisdictions = {code: p.jurisdiction for code, p in self.settings.products.items()}
        return SqlReplyStore(self.engine, jurisdictions)

    @cached_property
    def reply_taking(self) -> ReplyTaking:
        """Borrowers' replies taken as they come, read by every pack's reply words."""
        return ReplyTaking(self.replies, reply_rules(self.contact_terms.packs.values()))

    @cached_property
    def portal(self) -> SqlPortalStore:
        """The borrower portal's one-time links and sessions."""
        return SqlPortalStore(self.engine)

    @cached_property
    def contact_terms(self) -> ContactTerms:
        """The contact rule packs, each product's jurisdiction, phone-number zones, and the
        content rules (the packs' with the settings' additions)."""
        jurisdictions = {code: p.jurisdiction for code, p in self.settings.products.items()}
        return ContactTerms(
            contact_packs(), jurisdictions, PhonenumbersZones(), self.settings.content_packs
        )

    @cached_property
    def identity(self) -> SqlIdentityStore:
        """Users, teams, agencies, sessions and API tokens."""
        return SqlIdentityStore(self.engine)

    @cached_property
    def desk(self) -> SqlCaseworkStore:
        """Cases as the desk works them: queues, case files, notes, promises, proposals."""
        return SqlCaseworkStore(self.engine, self.default_stages)

    @cached_property
    def track(self) -> SqlTrackStore:
        """Field visits and the legal track."""
        jurisdictions = {code: p.jurisdiction for code, p in self.settings.products.items()}
        return SqlTrackStore(self.engine, jurisdictions)

    @cached_property
    def dashboards(self) -> SqlDashboardStore:
        """The supervisors' dashboard figures."""
        return SqlDashboardStore(self.engine, self.default_stages)

    @cached_property
    def bureau(self) -> SqlBureauStore:
        """The credit-bureau records of the monthly exports."""
        return SqlBureauStore(self.engine)

    @cached_property
    def audit_log(self) -> SqlAuditLog:
        """The append-only, hash-chained audit log."""
        return SqlAuditLog(self.engine)

    @cached_property
    def passwords(self) -> Argon2Passwords:
        """argon2id password hashes."""
        return Argon2Passwords()

    def close(self) -> None:
        """Release the database connections (if any were opened)."""
        if "engine" in self.__dict__:
            self.engine.dispose()

    def migrate(self) -> None:
        """Create or migrate the database to the current schema."""
        upgrade(self.engine)

    def require_schema(self) -> None:
        """Refuse to work on a database that `arrears init` has not brought up to date."""
        url = self.engine.url
        file = url.database if url.get_backend_name() == "sqlite" else None
        # Asked before connecting: connecting would leave an empty SQLite file behind.
        missing = bool(file) and file != ":memory:" and not Path(str(file)).exists()
        if missing or current_revision(self.engine) != head_revision():
            raise NotInitialised(
                f"the database {self.engine.url.render_as_string(hide_password=True)} is not "
                f"initialised or is out of date: run `arrears init` first"
            )


def build_app(db: str | None, config: str | None, cwd: Path | None = None) -> App:
    """Wire the application from the command line / environment / working directory."""
    url = db or os.environ.get(DATABASE_ENV) or DEFAULT_DATABASE
    settings = load_settings(config_path(config, cwd or Path.cwd()))
    app = App(url, settings)
    # The products' ladder files are read now: one at fault is named as the settings load,
    # not by the first run or page that needs it (a server would start and then refuse).
    _ = app.ladders
    return app

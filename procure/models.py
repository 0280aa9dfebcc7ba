"""Every model, imported in one place for Alembic and the migration check."""

from procure.accounts.models import (  # noqa: F401
    AccountToken,
    Membership,
    Organisation,
    User,
    UserSession,
)
from procure.assessment.models import (  # noqa: F401
    Assessment,
    AssessmentMark,
    AssessorAppointment,
    ConflictDeclaration,
    Decision,
    DecisionApproval,
    Moderation,
)
from procure.audit.models import AuditChainHead, AuditEvent  # noqa: F401
from procure.bakeoff.models import (  # noqa: F401
    AdoptionCheckIn,
    AwardContract,
    BakeOffEntrant,
    EvidenceFile,
    MeasurementReport,
)
from procure.challenges.models import (  # noqa: F401
    Amendment,
    Challenge,
    ChallengeFunder,
    ChallengeTag,
    Clarification,
    OutcomeMeasure,
    Phase,
    PhaseCriterion,
    TagFollow,
)
from procure.db import Base  # noqa: F401
from procure.notifications.models import OutboxMessage  # noqa: F401
from procure.record.models import (  # noqa: F401
    AdoptionInterest,
    ChallengeRecord,
    RecordAsset,
    RecordCriterion,
    RecordResult,
)
from procure.submissions.models import (  # noqa: F401
    Attachment,
    Proposal,
    ProposalResponse,
    Receipt,
)
from procure.values.models import ValueCriterion, ValueFramework  # noqa: F401

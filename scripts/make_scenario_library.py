"""Write the scenario library in scenarios/ from one shared municipality definition.

The four integration scenarios of the source report (free market, package, embedding, civil
society; domain brief §8) and the multilevel, stepped-care and online-upscaling strategies
all use the same synthetic municipality, so their results compare directly (and share
random numbers for the population). Run `python scripts/make_scenario_library.py` after
changing the municipality; the files are the source of truth for users and carry comments.
"""

from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]

MUNICIPALITY = """\
# --- The municipality (identical in every library scenario) -------------------------------
# Synthetic mid-sized Dutch municipality, 20,000 families with children 0-12, three segments.
# Numbers marked [brief §n] come from the domain brief (CIKEO report 2020 and the
# "Waarom interventies combineren?" slides); ASSUMPTION marks plausible values chosen for
# this synthetic town - replace them with local data before drawing conclusions.
population:
  size: 20000
  turnover_rate_per_month: 0.0104   # ASSUMPTION: children age out in ~8 years (1/96 per month)
  network:
    kind: random
    mean_degree: 10                 # ASSUMPTION; 83.9 % of parents take advice from family and
    homophily: 0.6                  #   friends [brief §3]; most ties within one's own segment
  segments:
    - name: higher_ses
      label: higher education / income
      share: 0.45                   # ASSUMPTION
      baseline_prevalence: 0.10     # ASSUMPTION: clinical/borderline child problems
      advantage_rank: 1
      contact_rates:                # contacts per parent per month (ASSUMPTIONS ordered by the
        online: 0.20                #   channel use in [brief §3]: websites 60.7 %, magazines
        media: 0.10                 #   50.6 %, social media 25.9 %, forums 28.5 %)
        social_media: 0.08
        youth_health_care: 0.08     # JGZ sees nearly every parent of a young child a few times a year
        school: 0.05
        community_centre: 0.02
    - name: middle_ses
      label: middle education / income
      share: 0.35
      baseline_prevalence: 0.15
      advantage_rank: 2
      contact_rates:
        online: 0.15
        media: 0.10
        social_media: 0.08
        youth_health_care: 0.08
        school: 0.05
        community_centre: 0.04
    - name: lower_ses_migration
      label: lower income, often migration background
      share: 0.20
      baseline_prevalence: 0.25     # ASSUMPTION: higher-risk segment
      advantage_rank: 3
      relative_degree: 0.8          # ASSUMPTION: smaller networks
      contact_rates:
        online: 0.06                # very low use of online offers by low-income parents [brief §6]
        media: 0.06
        social_media: 0.06
        youth_health_care: 0.08
        school: 0.05
        community_centre: 0.08      # community centres reach this segment best (ASSUMPTION)

outcome:
  name: child behaviour problems (clinical/borderline range)
  problem_cutoff: 0.0
  minimal_important_change: 0.2

simulation:
  months: 60
  dt_months: 1.0
  replicates: 50
  seed: 20201

# Costs and benefits (docs/economics.md), identical in every library scenario so that
# `impactsim compare` accepts them. Discount rates: Dutch guideline for economic evaluation
# in health care (Zorginstituut Nederland 2016): costs 4 %, effects 1.5 % a year.
economics:
  discount_rate_costs_per_year: 0.04
  discount_rate_effects_per_year: 0.015
  price_year: 2019
  case_year_values:                 # value of one prevented problem-case-year
    - stakeholder: municipality
      eur_per_case_year: 6000       # youth-care spending of ~EUR 12,000 per client-year (2019)
                                    #   x ASSUMPTION: half of clinical/borderline cases use it
    - {stakeholder: health_insurer, eur_per_case_year: 800}   # ASSUMPTION: GP and mental health care
    - {stakeholder: education, eur_per_case_year: 500}        # ASSUMPTION: extra support at school
  linked_outcomes:                  # effect chains (ASSUMPTIONS): avoided later costs per case-year
    - {name: out_of_home_placement, stakeholder: municipality, cost_avoided_eur: 60000,
       probability_per_case_year: 0.01, lag_years: 1}
    - {name: youth_offending, stakeholder: justice, cost_avoided_eur: 20000,
       probability_per_case_year: 0.005, lag_years: 1.5}
  extrapolation:
    enabled: false                  # switch on to count benefits after the 5-year horizon
    years: 5
  cost_cv: 0.2                      # ASSUMPTION: cost amounts uncertain by +-20 % (1 SD)
  value_cv: 0.3                     # ASSUMPTION: monetised values uncertain by +-30 % (1 SD)
  willingness_to_pay_eur_per_case_year: 20000   # ASSUMPTION (see docs/economics.md)
"""

# Programmes, shared wording. Effect sizes: [brief §6].
ONLINE = """\
  - name: online_course
    label: online parenting course
    level: universal
    duration_months: 2
    dropout_rate_per_month: 0.25    # early dropout is typical online [brief §6]
    dropout_multiplier: {{lower_ses_migration: 2.0}}
    effect_size: {{mean: {d}, sd: 0.08}}   # Thongseiratch et al. 2020: g = -0.32 behaviour problems
    effect_multiplier: {{lower_ses_migration: 0.7}}   # ASSUMPTION: smaller effect with low use
    effect_half_life_months: 18     # ASSUMPTION
    imitation_rate_per_month: 0.05
    costs:                          # ASSUMPTIONS (euros, 2019 prices)
      per_participant_month_eur: 30       # licence, hosting, online coaching per user-month
      per_provider_adoption_eur: 10000    # set-up and localisation of the platform
      per_provider_year_eur: 15000        # platform licence and maintenance
"""
GROUP = """\
  - name: group_course
    label: group parenting course (Triple P level 4 style)
    level: selective
    duration_months: 3
    dropout_rate_per_month: 0.08    # ASSUMPTION
    effect_size: {mean: 0.45, sd: 0.12}   # Lindsey & Strand 2013: ES 0.45 child problems
    effect_half_life_months: 24     # ASSUMPTION
    imitation_rate_per_month: 0.10
    spillover_fraction: 0.05        # participants pass on what they learned [brief §3]
    max_wait_months: 3
    costs:                          # ASSUMPTIONS (euros, 2019 prices)
      per_participant_month_eur: 300      # ~8 group sessions, two practitioners, 6-8 parents
      per_provider_adoption_eur: 6000     # training and accreditation of two practitioners
      per_provider_year_eur: 1500         # supervision, materials
"""
HOME = """\
  - name: home_visits
    label: indicated home-visiting programme
    level: indicated
    eligibility: {min_problem_score: 0.5}   # SD units above the problem cut-off 0
    duration_months: 6
    dropout_rate_per_month: 0.04
    effect_size: {mean: 0.50, sd: 0.15}   # ASSUMPTION: indicated programmes, larger effects
    effect_half_life_months: 36
    max_wait_months: 4
    costs:                          # ASSUMPTIONS (euros, 2019 prices)
      per_participant_month_eur: 500      # about two home visits a month by a professional
      per_provider_adoption_eur: 8000     # training
      per_provider_year_eur: 3000         # supervision
"""
BOOSTER = """\
  - name: group_booster
    label: booster session six months after the group course
    duration_months: 1
    effect_size: {mean: 0.10, sd: 0.05}   # ASSUMPTION
    effect_half_life_months: 24
    follow_up: {after: group_course, delay_months: 6, referral_rate_per_month: 0.4}
    costs: {per_participant_month_eur: 150}   # ASSUMPTION: one or two sessions
"""

SCENARIOS: dict[str, str] = {}

SCENARIOS["free-market"] = """\
# Scenario 1 of the source report, "free market" (domain brief §8): local providers each pick
# single programmes from the national database and offer them independently. No joint
# campaign, no referral agreements, hesitant adoption by organisations, no package.
name: free-market
description: >
  Providers pick single programmes and offer them independently: community centres may take
  up a group course, youth care a home-visiting programme; parents hear of them mainly through
  the providers themselves. Adoption by organisations is slow and nobody coordinates.

{municipality}
{channels_free_market}

providers:
  - name: community_centres
    count: 6
    capacity_per_month: 6           # ASSUMPTION: one group of 6-8 parents a month per centre
    fidelity: 0.65                  # ASSUMPTION: no joint training, lower fidelity [brief §5]
    fidelity_sd: 0.10
    innovation_rate_per_month: 0.02 # ASSUMPTION: organisations choose on their own
    imitation_rate_per_month: 0.03
    discontinuation_rate_per_month: 0.02   # incidental funding [brief §5]
  - name: youth_care_teams
    count: 4
    capacity_per_month: 3
    fidelity: 0.80
    innovation_rate_per_month: 0.02
    imitation_rate_per_month: 0.03
    discontinuation_rate_per_month: 0.02

interventions:
{group}{home}
strategy:
  name: free market
  offers:
    - {{intervention: group_course, channels: [community_centre], providers: [community_centres]}}
    - {{intervention: home_visits, channels: [youth_health_care], providers: [youth_care_teams]}}
"""

SCENARIOS["package"] = """\
# Scenario 2 of the source report, "package" (domain brief §8): a coherent package of
# effective programmes for parents with different needs, risk levels and backgrounds,
# reached through several channels and settings, with providers recruited jointly.
name: package
description: >
  A coordinated package: a universal online course (websites, media, social media), a group
  course for middle and lower SES parents (youth health care, schools, community centres) with
  a booster, and indicated home visits. The municipality recruits providers together.

{municipality}
{channels_package}

providers:
  - name: online_platform
    count: 1
    capacity_per_month: null        # unlimited places
    fidelity: 1.0                   # a fixed online protocol runs as designed
    initial_offer_share: 1.0
  - name: youth_health_care_teams
    count: 8
    capacity_per_month: 6
    fidelity: 0.85                  # joint training (ASSUMPTION)
    fidelity_sd: 0.05
    innovation_rate_per_month: 0.08
    imitation_rate_per_month: 0.15
    discontinuation_rate_per_month: 0.005
    initial_offer_share: 0.25
  - name: community_centres
    count: 6
    capacity_per_month: 6
    fidelity: 0.75
    fidelity_sd: 0.08
    innovation_rate_per_month: 0.06
    imitation_rate_per_month: 0.12
    discontinuation_rate_per_month: 0.005
    initial_offer_share: 0.25
  - name: youth_care_teams
    count: 4
    capacity_per_month: 3
    fidelity: 0.85
    initial_offer_share: 0.5

interventions:
{online}{group}    eligibility: {{segments: [middle_ses, lower_ses_migration]}}
{booster}{home}
strategy:
  name: package
  costs: {{coordination_per_year_eur: 50000}}   # ASSUMPTION: coordination (collective impact)
  offers:
    - {{intervention: online_course, channels: [online, media, social_media], providers: [online_platform]}}
    - {{intervention: group_course, channels: [youth_health_care, school, community_centre],
       providers: [youth_health_care_teams, community_centres]}}
    - {{intervention: group_booster, providers: [youth_health_care_teams, community_centres]}}
    - {{intervention: home_visits, channels: [youth_health_care], providers: [youth_care_teams]}}
  interactions:
    - {{interventions: [online_course, group_course], gamma: -0.3}}   # ASSUMPTION: overlapping content
    - {{interventions: [group_course, group_booster], gamma: 0.2}}    # ASSUMPTION: booster consolidates
"""

SCENARIOS["embedding"] = """\
# Scenario 3 of the source report, "embedding" (domain brief §8): parenting programmes built
# into broader programmes with wide reach - the youth health care schedule and early-years /
# school programmes - instead of separate courses parents must find themselves.
name: embedding
description: >
  The group course is embedded in youth health care visits and in school programmes: staff of
  those settings deliver it as part of their regular work, so the referral is strong and
  capacity grows with the settings; indicated home visits remain for high-risk parents.

{municipality}
{channels_embedding}

providers:
  - name: youth_health_care_teams
    count: 8
    capacity_per_month: 10          # ASSUMPTION: part of the regular schedule
    fidelity: 0.75                  # ASSUMPTION: adapted to the setting, some loss of fidelity
    fidelity_sd: 0.08
    innovation_rate_per_month: 0.10
    imitation_rate_per_month: 0.20
    initial_offer_share: 0.5        # the municipality commissions it within the JGZ contract
  - name: schools
    count: 20
    capacity_per_month: 3
    fidelity: 0.65
    fidelity_sd: 0.10
    innovation_rate_per_month: 0.05
    imitation_rate_per_month: 0.15
    discontinuation_rate_per_month: 0.005
  - name: youth_care_teams
    count: 4
    capacity_per_month: 3
    fidelity: 0.85
    initial_offer_share: 0.5

interventions:
{group}{home}
strategy:
  name: embedding
  costs: {{coordination_per_year_eur: 30000}}   # ASSUMPTION: coordination (collective impact)
  offers:
    - {{intervention: group_course, channels: [youth_health_care, school],
       providers: [youth_health_care_teams, schools]}}
    - {{intervention: home_visits, channels: [youth_health_care], providers: [youth_care_teams]}}
"""

SCENARIOS["civil-society"] = """\
# Scenario 4 of the source report, "civil society" (domain brief §8): knowledge of active
# elements spread widely among parents and their networks through social media, brochures,
# radio and TV. "Spreading active principles via internet and media may be more promising
# than multiplying the participants of a group course a hundredfold" [brief §9].
name: civil-society
description: >
  A light-touch universal offer of parenting tips built on active elements (short videos,
  brochures, radio and TV items, social media), unlimited in capacity, small in effect per
  parent, carried further by word of mouth and by parents passing tips on.

{municipality}
{channels_civil_society}

providers:
  - name: campaign_team
    count: 1
    capacity_per_month: null        # a campaign has no places
    fidelity: 1.0
    initial_offer_share: 1.0

interventions:
  - name: active_elements_tips
    label: tips on active elements via media and networks
    level: universal
    duration_months: 1
    dropout_rate_per_month: 0.3     # ASSUMPTION: many only glance at it
    effect_size: {{mean: 0.10, sd: 0.05}}   # ASSUMPTION: small per-parent effect of information
    effect_half_life_months: 12     # ASSUMPTION
    imitation_rate_per_month: 0.15  # ASSUMPTION: tips travel through networks
    spillover_fraction: 0.10
    costs:                          # ASSUMPTIONS (euros, 2019 prices)
      per_participant_month_eur: 1        # hosting, printed brochures
      per_provider_adoption_eur: 40000    # producing videos, brochures and radio items
      per_provider_year_eur: 30000        # campaign team

strategy:
  name: civil society
  costs: {{coordination_per_year_eur: 20000}}   # ASSUMPTION: coordination (collective impact)
  offers:
    - {{intervention: active_elements_tips, channels: [media, social_media, online],
       providers: [campaign_team]}}
"""

SCENARIOS["multilevel-triple-p"] = """\
# A multilevel system in the style of Triple P (domain brief §6: "a multi-level programme:
# universal, selective, indicated, high-risk levels, plus media and social marketing"; Sanders
# et al. 2008, Prinz et al. 2009). Level 1 media -> level 2 seminars -> level 3 brief primary
# care -> level 4 group -> level 5 enhanced for parents with persisting problems.
name: multilevel-triple-p
description: >
  Five levels of one system: a media campaign for all, seminars, brief consultations in youth
  health care for parents with concerns, a group course, and an enhanced individual programme
  for parents whose problems persist after the group course.

{municipality}
{channels_multilevel_triple_p}

providers:
  - name: campaign_team
    count: 1
    capacity_per_month: null
    fidelity: 1.0
    initial_offer_share: 1.0
  - name: youth_health_care_teams
    count: 8
    capacity_per_month: 8
    fidelity: 0.85
    fidelity_sd: 0.05
    innovation_rate_per_month: 0.08
    imitation_rate_per_month: 0.15
    initial_offer_share: 0.5
  - name: community_centres
    count: 6
    capacity_per_month: 6
    fidelity: 0.75
    fidelity_sd: 0.08
    innovation_rate_per_month: 0.06
    imitation_rate_per_month: 0.12
    initial_offer_share: 0.25
  - name: youth_care_teams
    count: 4
    capacity_per_month: 3
    fidelity: 0.85
    initial_offer_share: 0.5

interventions:
  - name: level1_media
    label: level 1 - media and social marketing
    duration_months: 1
    dropout_rate_per_month: 0.3
    effect_size: {{mean: 0.05, sd: 0.03}}   # ASSUMPTION: information alone, small effect
    effect_half_life_months: 12
    imitation_rate_per_month: 0.05
    costs: {{per_participant_month_eur: 1, per_provider_year_eur: 40000}}   # ASSUMPTION: campaign
  - name: level2_seminar
    label: level 2 - seminar series
    duration_months: 1
    dropout_rate_per_month: 0.1
    effect_size: {{mean: 0.15, sd: 0.06}}   # ASSUMPTION
    effect_half_life_months: 18
    costs: {{per_participant_month_eur: 40, per_provider_adoption_eur: 3000}}   # ASSUMPTION
  - name: level3_brief
    label: level 3 - brief consultations for parents with concerns
    eligibility: {{min_problem_score: -0.5}}
    duration_months: 2
    dropout_rate_per_month: 0.05
    effect_size: {{mean: 0.30, sd: 0.10}}   # ASSUMPTION
    effect_half_life_months: 24
    costs: {{per_participant_month_eur: 120, per_provider_adoption_eur: 4000}}   # ASSUMPTION
  - name: level4_group
    label: level 4 - group course
    eligibility: {{min_problem_score: 0.0}}
    duration_months: 3
    dropout_rate_per_month: 0.08
    effect_size: {{mean: 0.45, sd: 0.12}}   # Lindsey & Strand 2013: ES 0.45
    effect_half_life_months: 24
    spillover_fraction: 0.05
    costs: {{per_participant_month_eur: 300, per_provider_adoption_eur: 6000, per_provider_year_eur: 1500}}
  - name: level5_enhanced
    label: level 5 - enhanced individual programme
    eligibility: {{min_problem_score: 0.3}}
    duration_months: 4
    dropout_rate_per_month: 0.05
    effect_size: {{mean: 0.40, sd: 0.15}}   # ASSUMPTION
    effect_half_life_months: 36
    follow_up: {{after: level4_group, delay_months: 1, referral_rate_per_month: 0.3}}
    costs: {{per_participant_month_eur: 500, per_provider_adoption_eur: 8000, per_provider_year_eur: 3000}}

strategy:
  name: multilevel system
  costs: {{coordination_per_year_eur: 60000}}   # ASSUMPTION: coordination (collective impact)
  offers:
    - {{intervention: level1_media, channels: [media, social_media], providers: [campaign_team]}}
    - {{intervention: level2_seminar, channels: [school, community_centre], providers: [community_centres]}}
    - {{intervention: level3_brief, channels: [youth_health_care], providers: [youth_health_care_teams]}}
    - {{intervention: level4_group, channels: [youth_health_care, community_centre],
       providers: [youth_health_care_teams, community_centres]}}
    - {{intervention: level5_enhanced, providers: [youth_care_teams]}}
  interactions:
    - {{interventions: [level1_media, level2_seminar], gamma: -0.5}}   # ASSUMPTION: same messages
    - {{interventions: [level4_group, level5_enhanced], gamma: 0.1}}
"""

SCENARIOS["stepped-care"] = """\
# A stepped-care sequence: start light, step up only for parents whose problems persist
# (domain brief §7: "several time points" and "tailored variants for different risk levels").
# Step 1 online for all; step 2 group course for parents still above the cut-off after step 1;
# step 3 home visits for those still well above it after step 2.
name: stepped-care
description: >
  Online course for everyone; parents whose problem score is still above the cut-off three
  months after completing it are referred to a group course; those still well above it after
  the group course are referred to home visits.

{municipality}
{channels_stepped_care}

providers:
  - name: online_platform
    count: 1
    capacity_per_month: null
    fidelity: 1.0
    initial_offer_share: 1.0
  - name: youth_health_care_teams
    count: 8
    capacity_per_month: 6
    fidelity: 0.85
    fidelity_sd: 0.05
    initial_offer_share: 0.5
  - name: youth_care_teams
    count: 4
    capacity_per_month: 3
    fidelity: 0.85
    initial_offer_share: 0.5

interventions:
{online}  - name: group_course
    label: step 2 - group course for persisting problems
    level: indicated
    eligibility: {{min_problem_score: 0.0}}
    duration_months: 3
    dropout_rate_per_month: 0.08
    effect_size: {{mean: 0.45, sd: 0.12}}   # Lindsey & Strand 2013
    effect_half_life_months: 24
    spillover_fraction: 0.05
    follow_up: {{after: online_course, delay_months: 3, referral_rate_per_month: 0.3}}
    costs: {{per_participant_month_eur: 300, per_provider_adoption_eur: 6000, per_provider_year_eur: 1500}}
  - name: home_visits
    label: step 3 - home visits for problems persisting after the group course
    level: indicated
    eligibility: {{min_problem_score: 0.5}}
    duration_months: 6
    dropout_rate_per_month: 0.04
    effect_size: {{mean: 0.50, sd: 0.15}}
    effect_half_life_months: 36
    max_wait_months: 4
    follow_up: {{after: group_course, delay_months: 3, referral_rate_per_month: 0.3}}
    costs: {{per_participant_month_eur: 500, per_provider_adoption_eur: 8000, per_provider_year_eur: 3000}}

strategy:
  name: stepped care
  costs: {{coordination_per_year_eur: 40000}}   # ASSUMPTION: coordination (collective impact)
  offers:
    - {{intervention: online_course, channels: [online, media, youth_health_care], providers: [online_platform]}}
    - {{intervention: group_course, providers: [youth_health_care_teams]}}
    - {{intervention: home_visits, providers: [youth_care_teams]}}
"""

SCENARIOS["online-upscaling"] = """\
# Online upscaling (domain brief §6, §9): broad-reach channels and an online programme with
# unlimited capacity - more reach in potential, a smaller effect, early dropout, and very low
# use among low-income parents (selective reach).
name: online-upscaling
description: >
  An online parenting programme promoted city-wide through websites, social media and media,
  with unlimited capacity; lower effect and higher dropout than a group course, with dropout
  doubled and the effect reduced among lower-income parents.

{municipality}
{channels_online_upscaling}

providers:
  - name: online_platform
    count: 1
    capacity_per_month: null
    fidelity: 1.0
    initial_offer_share: 1.0

interventions:
{online_low}
strategy:
  name: online upscaling
  costs: {{coordination_per_year_eur: 10000}}   # ASSUMPTION: coordination (collective impact)
  offers:
    - {{intervention: online_course, channels: [online, social_media, media], providers: [online_platform]}}
"""


CHANNEL_KINDS = {
    "online": "online",
    "media": "media",
    "social_media": "social_media",
    "youth_health_care": "youth_health_care",
    "school": "school",
    "community_centre": "community_centre",
}

#: Channel costs (euros, 2019 prices; ASSUMPTIONS), paid only while a channel promotes an offer.
CHANNEL_COSTS = {
    "online": "{per_month_active_eur: 1500}",  # online ads and website upkeep
    "media": "{per_month_active_eur: 2000}",  # local radio, papers, brochures
    "social_media": "{per_month_active_eur: 1000}",  # posts, moderation
    "youth_health_care": "{per_contact_eur: 2.0}",  # ~2 minutes of a JGZ nurse per contact
    "school": "{per_month_active_eur: 500}",  # newsletters, parent evenings
    "community_centre": "{per_month_active_eur: 500}",  # outreach by centre staff
}

#: Referral strength per channel in each scenario (hazard per month that a parent made aware
#: through the channel asks for a place; ASSUMPTIONS). Channels a strategy does not use keep
#: a nominal strength and promote nothing.
REFERRAL = {
    "free-market": {"community_centre": 0.02, "youth_health_care": 0.01},
    "package": {
        "online": 0.004,
        "media": 0.002,
        "social_media": 0.003,
        "youth_health_care": 0.03,
        "school": 0.01,
        "community_centre": 0.03,
    },
    "embedding": {"youth_health_care": 0.08, "school": 0.05},
    "civil-society": {"media": 0.02, "social_media": 0.03, "online": 0.02},
    "multilevel-triple-p": {
        "media": 0.02,
        "social_media": 0.02,
        "school": 0.01,
        "youth_health_care": 0.05,
        "community_centre": 0.03,
    },
    "stepped-care": {"online": 0.004, "media": 0.002, "youth_health_care": 0.02},
    "online-upscaling": {"online": 0.008, "social_media": 0.006, "media": 0.003},
}


def channels_block(name: str) -> str:
    """The municipality's six channels with this scenario's referral strengths."""
    strengths = REFERRAL[name]
    lines = [
        "channels:",
        "  # the municipality's channels; referral_strength = hazard per month that a parent made",
        "  # aware through the channel asks for a place (ASSUMPTIONS). Only channels named in the",
        "  # strategy's offers promote anything.",
    ]
    for channel, kind in CHANNEL_KINDS.items():
        rho = strengths.get(channel, 0.01)
        lines.append(
            f"  - {{name: {channel}, kind: {kind}, referral_strength: {rho}, "
            f"costs: {CHANNEL_COSTS[channel]}}}"
        )
    return "\n".join(lines)


CRITICAL_MASS_POPULATION = """\
# --- The municipality of the critical-mass experiment ---------------------------------------
# The library municipality with (1) stronger social proof: the late majority and laggards
# follow word of mouth only once 10 % / 20 % of their network neighbours took part
# (ASSUMPTIONS), and (2) a channel of parent ambassadors who reach innovators and early
# adopters through their own networks (ASSUMPTION: 0.15 contacts per targeted parent a month).
"""


def critical_mass_municipality() -> str:
    """The shared municipality with social-proof thresholds and an ambassadors channel."""
    text = MUNICIPALITY.replace(
        "population:\n  size: 20000\n",
        "population:\n  size: 20000\n"
        "  adopter_categories:\n"
        "    innovators: {channel_multiplier: 3.0, imitation_multiplier: 0.5, social_threshold: 0.0}\n"
        "    early_adopters: {channel_multiplier: 2.0, imitation_multiplier: 1.0, social_threshold: 0.0}\n"
        "    early_majority: {channel_multiplier: 1.0, imitation_multiplier: 1.0, social_threshold: 0.02}\n"
        "    late_majority: {channel_multiplier: 0.6, imitation_multiplier: 1.2, social_threshold: 0.10}\n"
        "    laggards: {channel_multiplier: 0.3, imitation_multiplier: 0.8, social_threshold: 0.20}\n",
    )
    text = (
        text.replace(
            "        community_centre: 0.02\n",
            "        community_centre: 0.02\n        parent_ambassadors: 0.15\n",
        )
        .replace(
            "        community_centre: 0.04\n",
            "        community_centre: 0.04\n        parent_ambassadors: 0.15\n",
        )
        .replace(
            "        community_centre: 0.08      # community centres reach this segment best (ASSUMPTION)\n",
            "        community_centre: 0.08      # community centres reach this segment best (ASSUMPTION)\n"
            "        parent_ambassadors: 0.15\n",
        )
    )
    return CRITICAL_MASS_POPULATION + text


CRITICAL_MASS = """\
# Rogers' critical-mass hypothesis (domain brief §4: "enough innovators and early adopters
# must adopt before the majority follows" - barely tested, a simulation can explore it).
# Arm '{arm}' of a two-arm experiment on the same municipality; compare the arms with
#   impactsim compare scenarios/critical-mass-broad.yaml scenarios/critical-mass-seeded.yaml
name: critical-mass-{arm}
description: >
  {description}

{municipality}
channels:
  # referral_strength: hazard per month that a parent made aware asks for a place (ASSUMPTIONS)
  - {{name: online, kind: online, referral_strength: 0.006, start_month: {broad_start},
     costs: {{per_month_active_eur: 1500}}}}
  - {{name: media, kind: media, referral_strength: 0.003, start_month: {broad_start},
     costs: {{per_month_active_eur: 2000}}}}
  - {{name: social_media, kind: social_media, referral_strength: 0.005, start_month: {broad_start},
     costs: {{per_month_active_eur: 1000}}}}
  - {{name: youth_health_care, kind: youth_health_care, referral_strength: 0.01, costs: {{per_contact_eur: 2.0}}}}
  - {{name: school, kind: school, referral_strength: 0.01, costs: {{per_month_active_eur: 500}}}}
  - {{name: community_centre, kind: community_centre, referral_strength: 0.01, costs: {{per_month_active_eur: 500}}}}
  - name: parent_ambassadors
    kind: other
    referral_strength: 0.05         # ASSUMPTION: a personal invitation by a fellow parent
    target_adopter_categories: [innovators, early_adopters]
    end_month: 12                   # the seeding phase lasts a year
    costs: {{per_month_active_eur: 3000}}   # ASSUMPTION: ambassador coordination and vouchers

providers:
  - name: online_platform
    count: 1
    capacity_per_month: null
    fidelity: 1.0
    initial_offer_share: 1.0

interventions:
  - name: online_course
    label: online parenting course spread by word of mouth
    level: universal
    duration_months: 2
    dropout_rate_per_month: 0.2
    effect_size: {{mean: 0.30, sd: 0.08}}   # Thongseiratch et al. 2020: g = -0.32
    effect_half_life_months: 18     # ASSUMPTION
    imitation_rate_per_month: 0.12  # ASSUMPTION: word of mouth once peers took part
    spillover_fraction: 0.03
    costs: {{per_participant_month_eur: 30, per_provider_adoption_eur: 10000, per_provider_year_eur: 15000}}

strategy:
  name: critical mass ({arm})
  costs: {{coordination_per_year_eur: 10000}}   # ASSUMPTION
  offers:
    - {{intervention: online_course, channels: [{channels}], providers: [online_platform]}}
"""


def main() -> None:
    """Write every library scenario to scenarios/NAME.yaml."""
    parts = {
        "municipality": MUNICIPALITY,
        "online": ONLINE.format(d=0.30),
        "online_low": ONLINE.format(d=0.25).replace(
            "effect_size: {mean: 0.25, sd: 0.08}   # Thongseiratch et al. 2020: g = -0.32 behaviour problems",
            "effect_size: {mean: 0.25, sd: 0.08}   # below g = 0.32 (Thongseiratch 2020): effectiveness at scale, ASSUMPTION",
        ),
        "group": GROUP,
        "home": HOME,
        "booster": BOOSTER,
    }
    parts.update({f"channels_{n.replace('-', '_')}": channels_block(n) for n in SCENARIOS})
    for name, template in SCENARIOS.items():
        text = template.format(**parts)
        path = ROOT / "scenarios" / f"{name}.yaml"
        path.write_text(text, encoding="utf-8")
        print(f"wrote {path.relative_to(ROOT)}")
    arms = {
        "broad": dict(
            description="A broad campaign (online, media, social media) from day one, "
            "reaching every adopter category at once.",
            broad_start=0,
            channels="online, media, social_media",
        ),
        "seeded": dict(
            description="Parent ambassadors recruit innovators and early adopters in the "
            "first year; the broad campaign starts only in month 12, when word of mouth "
            "can carry it.",
            broad_start=12,
            channels="parent_ambassadors, online, media, social_media",
        ),
    }
    for arm, values in arms.items():
        text = CRITICAL_MASS.format(arm=arm, municipality=critical_mass_municipality(), **values)
        path = ROOT / "scenarios" / f"critical-mass-{arm}.yaml"
        path.write_text(text, encoding="utf-8")
        print(f"wrote {path.relative_to(ROOT)}")


if __name__ == "__main__":
    main()
